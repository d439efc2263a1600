// The communicator of a run without mpirun: one rank, every collective a no-op (average
// over one rank is the identity).
#pragma once
#include "communicator.h"

namespace dist {

class SingleProcess final : public Communicator {
 public:
  int rank() const override { return 0; }
  int world_size() const override { return 1; }
  int local_rank() const override { return 0; }
  int local_size() const override { return 1; }
  void all_reduce(float*, size_t, ReduceOp) override {}
  void all_reduce(double*, size_t, ReduceOp) override {}
  std::unique_ptr<Request> all_reduce_async(float* data, size_t n, ReduceOp op) override;
  void broadcast(void*, size_t, int root) override;
  void barrier() override {}
  [[noreturn]] void abort(int code) override;
};

}  // namespace dist
