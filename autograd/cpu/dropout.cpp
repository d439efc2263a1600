// CPU dropout: the keep decision hashes the element index with the seed in 32-bit lanes,
// which GCC vectorizes, and threads split the elements without sharing a generator.
#include <algorithm>

#include "../kernels/dropout.h"
#include "parallel.h"

namespace ag::cpu {
namespace {

constexpr int64_t kGrain = 1 << 15;  // elements per thread below which we stay serial

// Elements [b, e) of x and y, all in the block of 2^32 elements whose key is `key`.
void dropout_range(const float* x, float* y, int64_t b, int64_t e, const kernels::DropoutMask& m,
                   uint32_t key) {
  const uint32_t first = static_cast<uint32_t>(b);
  for (int64_t j = 0; j < e - b; ++j)
    y[b + j] = x[b + j] * m.factor(first + static_cast<uint32_t>(j), key);
}

void dropout(const float* x, float* y, int64_t n, float p, uint64_t seed) {
  const kernels::DropoutMask m = kernels::dropout_mask(p, seed);
  parallel_for(n, kGrain, [&](int64_t b, int64_t e) {
    for (int64_t start = b; start < e;) {
      const int64_t stop = std::min<int64_t>(e, (start | 0xFFFFFFFF) + 1);
      dropout_range(x, y, start, stop, m, m.block_key(start));
      start = stop;
    }
  });
}

}  // namespace
}  // namespace ag::cpu

namespace ag::kernels {
KernelTable<DropoutFn> dropout{"dropout", {&cpu::dropout, nullptr}};
}  // namespace ag::kernels
