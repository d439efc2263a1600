// CPU dropout: the keep decision hashes the element index with the seed in 32-bit lanes,
// which GCC vectorizes, and threads split the elements without sharing a generator.
#include <algorithm>
#include <cmath>

#include "../kernels/dropout.h"
#include "parallel.h"

namespace ag::cpu {
namespace {

constexpr int64_t kGrain = 1 << 15;  // elements per thread below which we stay serial

// A 32-bit bijection whose output bits each depend on every input bit (the murmur3
// finalizer).
inline uint32_t mix32(uint32_t h) {
  h ^= h >> 16;
  h *= 0x85ebca6bu;
  h ^= h >> 13;
  h *= 0xc2b2ae35u;
  h ^= h >> 16;
  return h;
}

// Elements [b, e) of x and y; `key` covers b's block of 2^32 elements, which [b, e) stays in.
void dropout_range(const float* x, float* y, int64_t b, int64_t e, int32_t threshold,
                   float scale, uint32_t key0, uint32_t key) {
  const uint32_t first = static_cast<uint32_t>(b);
  for (int64_t j = 0; j < e - b; ++j) {
    const uint32_t h = mix32(mix32((first + static_cast<uint32_t>(j)) ^ key0) ^ key);
    y[b + j] = x[b + j] * (static_cast<int32_t>(h >> 8) < threshold ? scale : 0.0f);
  }
}

void dropout(const float* x, float* y, int64_t n, float p, uint64_t seed) {
  // Kept when the hash's top 24 bits fall below (1 - p) * 2^24.
  const int32_t threshold = static_cast<int32_t>(std::lround((1.0 - p) * (1 << 24)));
  const float scale = p < 1 ? 1.0f / (1.0f - p) : 0.0f;
  const uint32_t key0 = static_cast<uint32_t>(seed), key1 = static_cast<uint32_t>(seed >> 32);
  parallel_for(n, kGrain, [&](int64_t b, int64_t e) {
    // One key per 2^32 elements keeps the hashed index 32-bit.
    for (int64_t start = b; start < e;) {
      const int64_t stop = std::min<int64_t>(e, (start | 0xFFFFFFFF) + 1);
      const uint32_t key = key1 ^ mix32(static_cast<uint32_t>(start >> 32));
      dropout_range(x, y, start, stop, threshold, scale, key0, key);
      start = stop;
    }
  });
}

}  // namespace
}  // namespace ag::cpu

namespace ag::kernels {
KernelTable<DropoutFn> dropout{"dropout", {&cpu::dropout, nullptr}};
}  // namespace ag::kernels
