// CUDA dropout with the CPU kernel's counter-based mask (cpu/dropout.cpp): element i is kept
// when a hash of (seed, i) falls below the threshold, so both devices drop the same elements.
#include <cmath>

#include "../kernels/dropout.h"
#include "check.h"
#include "launch.cuh"
#include "register.h"
#include "stream.h"

namespace ag::cuda {
namespace {

// The murmur3 finalizer, as on the CPU.
__device__ inline uint32_t mix32(uint32_t h) {
  h ^= h >> 16;
  h *= 0x85ebca6bu;
  h ^= h >> 13;
  h *= 0xc2b2ae35u;
  h ^= h >> 16;
  return h;
}

// x, y: [n]. Kept when the hash's top 24 bits fall below threshold = (1 - p) * 2^24; each
// block of 2^32 elements has its own key, so the hashed index stays 32-bit.
__global__ void dropout_kernel(const float* x, float* y, int64_t n, int32_t threshold,
                               float scale, uint32_t key0, uint32_t key1) {
  AG_GRID_LOOP(i, n) {
    const uint32_t key = key1 ^ mix32(static_cast<uint32_t>(i >> 32));
    const uint32_t h = mix32(mix32(static_cast<uint32_t>(i) ^ key0) ^ key);
    y[i] = x[i] * (static_cast<int32_t>(h >> 8) < threshold ? scale : 0.0f);
  }
}

void dropout(const float* x, float* y, int64_t n, float p, uint64_t seed) {
  if (n == 0) return;
  const int32_t threshold = static_cast<int32_t>(std::lround((1.0 - p) * (1 << 24)));
  const float scale = p < 1 ? 1.0f / (1.0f - p) : 0.0f;
  dropout_kernel<<<blocks_for(n), kThreads, 0, stream()>>>(
      x, y, n, threshold, scale, static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32));
  AG_CUDA_CHECK_LAUNCH("dropout_kernel");
}

}  // namespace

void register_dropout_kernels() { kernels::dropout.set(Device::cuda, &dropout); }

}  // namespace ag::cuda
