#include "sampler.h"

#include "autograd/error.h"

namespace dist {

std::vector<size_t> shard(const std::vector<size_t>& order, int rank, int world, bool drop_remainder) {
  AG_CHECK(world >= 1 && rank >= 0 && rank < world, "shard: rank ", rank, " of ", world);
  const size_t w = static_cast<size_t>(world);
  const size_t dealt = drop_remainder ? order.size() / w * w : order.size();
  std::vector<size_t> mine;
  for (size_t i = static_cast<size_t>(rank); i < dealt; i += w) mine.push_back(order[i]);
  return mine;
}

int64_t local_position(int64_t global_batches, int world, int64_t accum) {
  AG_CHECK(global_batches >= 0 && world >= 1 && accum >= 1, "local_position: ", global_batches,
           " batches, ", world, " ranks, accumulation ", accum);
  const int64_t group = world * accum;  // global batches per optimizer step
  return (global_batches + group - 1) / group * accum;
}

}  // namespace dist
