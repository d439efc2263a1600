// Reductions over the middle axis of a [outer, n, inner] view of a contiguous tensor.
#pragma once
#include <cstdint>

#include "../dispatch.h"

namespace ag::kernels {

// y[o, i] = sum_k x[o, k, i]                                  y: [outer, inner]
using SumFn = void(const float* x, float* y, int64_t outer, int64_t n, int64_t inner);
// y[o, i] = max_k x[o, k, i], idx = first k reaching it      y, idx: [outer, inner]
using MaxFn = void(const float* x, float* y, int64_t* idx, int64_t outer, int64_t n,
                   int64_t inner);
// gx = 0 except gx[o, idx[o, i], i] = gy[o, i]                gx: [outer, n, inner]
using MaxBackwardFn = void(const float* gy, const int64_t* idx, float* gx, int64_t outer,
                           int64_t n, int64_t inner);

extern KernelTable<SumFn> sum;
extern KernelTable<MaxFn> max;
extern KernelTable<MaxBackwardFn> max_backward;

}  // namespace ag::kernels
