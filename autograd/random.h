// Seeded random numbers. One default generator per process; manual_seed makes a run
// repeatable. Generators are not thread-safe: one per thread that draws.
#pragma once
#include <cstdint>
#include <random>

#include "tensor.h"

namespace ag {

class Generator {
 public:
  explicit Generator(uint64_t seed = 0) : engine_(seed) {}
  void seed(uint64_t s) { engine_.seed(s); }
  std::mt19937_64& engine() { return engine_; }
  // Raw engine state, for checkpoints that must resume the exact stream.
  std::string state() const;
  void set_state(const std::string& s);

 private:
  std::mt19937_64 engine_;
};

Generator& default_generator();
void manual_seed(uint64_t seed);

Tensor uniform(const Shape& shape, float low, float high, Generator& gen = default_generator());
Tensor normal(const Shape& shape, float mean = 0.0f, float std = 1.0f,
              Generator& gen = default_generator());
// 1 with probability p, else 0 (float32).
Tensor bernoulli(const Shape& shape, float p, Generator& gen = default_generator());

}  // namespace ag
