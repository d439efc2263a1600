// Inverted dropout with a counter-based mask: whether element i is kept depends only on
// (seed, i), so the backward reapplies the forward's mask from the seed alone and every
// backend draws the same mask for the same seed.
#pragma once
#include <cmath>
#include <cstdint>

#include "../dispatch.h"
#include "host_device.h"

namespace ag::kernels {

// y[i] = x[i] * (keep(seed, i) ? 1 / (1 - p) : 0), each element kept with probability
// 1 - p (none when p == 1); a dropped NaN stays NaN, as in PyTorch.         x, y: [n]
using DropoutFn = void(const float* x, float* y, int64_t n, float p, uint64_t seed);

extern KernelTable<DropoutFn> dropout;

// The mask every backend draws: element i is kept when the top 24 bits of a hash of (seed, i)
// fall below threshold = (1 - p) * 2^24. Each block of 2^32 elements has its own key, so the
// hashed index stays 32-bit (and vectorizes in 32-bit lanes on the CPU).
struct DropoutMask {
  int32_t threshold;
  float scale;  // 1 / (1 - p), or 0 when p == 1
  uint32_t key0, key1;

  // A 32-bit bijection whose output bits each depend on every input bit (murmur3 finalizer).
  AG_HOST_DEVICE static uint32_t mix32(uint32_t h) {
    h ^= h >> 16;
    h *= 0x85ebca6bu;
    h ^= h >> 13;
    h *= 0xc2b2ae35u;
    h ^= h >> 16;
    return h;
  }
  // The key of the block of 2^32 elements holding element i.
  AG_HOST_DEVICE uint32_t block_key(int64_t i) const {
    return key1 ^ mix32(static_cast<uint32_t>(i >> 32));
  }
  // What element i (low 32 bits, in the block of `key`) is multiplied by: scale or 0.
  AG_HOST_DEVICE float factor(uint32_t i, uint32_t key) const {
    const uint32_t h = mix32(mix32(i ^ key0) ^ key);
    return static_cast<int32_t>(h >> 8) < threshold ? scale : 0.0f;
  }
};

inline DropoutMask dropout_mask(float p, uint64_t seed) {
  return {static_cast<int32_t>(std::lround((1.0 - p) * (1 << 24))),
          p < 1 ? 1.0f / (1.0f - p) : 0.0f, static_cast<uint32_t>(seed),
          static_cast<uint32_t>(seed >> 32)};
}

}  // namespace ag::kernels
