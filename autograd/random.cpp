#include "random.h"

#include <sstream>

namespace ag {

std::string Generator::state() const {
  std::ostringstream os;
  os << engine_;
  return os.str();
}

void Generator::set_state(const std::string& s) {
  std::istringstream is(s);
  is >> engine_;
  AG_CHECK(!is.fail(), "Generator::set_state: not a generator state");
}

Generator& default_generator() {
  static Generator gen(0);
  return gen;
}

void manual_seed(uint64_t seed) { default_generator().seed(seed); }

namespace {
// Draws on the CPU; other devices get a copy.
template <class Dist>
Tensor draw(const Shape& shape, Dist dist, Generator& gen) {
  Tensor t = empty(shape);
  float* p = t.data();
  for (int64_t i = 0; i < t.numel(); ++i) p[i] = static_cast<float>(dist(gen.engine()));
  return t;
}
}  // namespace

Tensor uniform(const Shape& shape, float low, float high, Generator& gen) {
  AG_CHECK(low <= high, "uniform: low ", low, " > high ", high);
  return draw(shape, std::uniform_real_distribution<double>(low, high), gen);
}

Tensor normal(const Shape& shape, float mean, float std, Generator& gen) {
  AG_CHECK(std >= 0, "normal: negative std ", std);
  return draw(shape, std::normal_distribution<double>(mean, std), gen);
}

Tensor bernoulli(const Shape& shape, float p, Generator& gen) {
  AG_CHECK(p >= 0 && p <= 1, "bernoulli: p ", p, " outside [0, 1]");
  return draw(shape, std::bernoulli_distribution(p), gen);
}

}  // namespace ag
