#include "single_process.h"

#include <cstdlib>

#include "autograd/error.h"

namespace dist {

namespace {
struct DoneRequest final : Request {
  bool test() override { return true; }
  void wait() override {}
};
}  // namespace

std::unique_ptr<Request> SingleProcess::all_reduce_async(float*, size_t, ReduceOp) {
  return std::make_unique<DoneRequest>();
}

void SingleProcess::broadcast(void*, size_t, int root) {
  AG_CHECK(root == 0, "broadcast: root ", root, " outside a world of 1 rank");
}

void SingleProcess::abort(int code) { std::_Exit(code); }

}  // namespace dist
