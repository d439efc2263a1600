// Relative-position shift (Transformer-XL / ESPnet "latest" rel_shift): each query row of
// a [T, P] score matrix over relative positions is cut to its [T, S] window over keys.
#pragma once
#include <cstdint>

#include "../dispatch.h"

namespace ag::kernels {

// y[n, i, j] = x[n, i, t - 1 - i + j]      x: [n, t, p], y: [n, t, s], s = p - t + 1
using RelShiftFn = void(const float* x, float* y, int64_t n, int64_t t, int64_t p);
// gx[n, i, t - 1 - i + j] = gy[n, i, j], zero elsewhere      gy: [n, t, s], gx: [n, t, p]
using RelShiftBackwardFn = void(const float* gy, float* gx, int64_t n, int64_t t, int64_t p);

extern KernelTable<RelShiftFn> rel_shift;
extern KernelTable<RelShiftBackwardFn> rel_shift_backward;

}  // namespace ag::kernels
