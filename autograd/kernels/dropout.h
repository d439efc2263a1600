// Inverted dropout with a counter-based mask: whether element i is kept depends only on
// (seed, i), so the backward reapplies the forward's mask from the seed alone and every
// backend draws the same mask for the same seed.
#pragma once
#include <cstdint>

#include "../dispatch.h"

namespace ag::kernels {

// y[i] = x[i] * (keep(seed, i) ? 1 / (1 - p) : 0), each element kept with probability
// 1 - p (none when p == 1); a dropped NaN stays NaN, as in PyTorch.         x, y: [n]
using DropoutFn = void(const float* x, float* y, int64_t n, float p, uint64_t seed);

extern KernelTable<DropoutFn> dropout;

}  // namespace ag::kernels
