// Softmax and log-softmax along the middle axis of a [outer, n, inner] view of a
// contiguous tensor, with fused backward.
#pragma once
#include <cstdint>

#include "../dispatch.h"

namespace ag::kernels {

// y = softmax(x) (log_softmax(x) when `log`) over k of x[o, k, i].   x, y: [outer, n, inner]
using SoftmaxFn = void(const float* x, float* y, int64_t outer, int64_t n, int64_t inner,
                       bool log);
// From the forward output y and its gradient gy:
//   softmax:     gx = y * (gy - sum_k gy * y)
//   log_softmax: gx = gy - exp(y) * sum_k gy                  y, gy, gx: [outer, n, inner]
using SoftmaxBackwardFn = void(const float* y, const float* gy, float* gx, int64_t outer,
                               int64_t n, int64_t inner, bool log);

extern KernelTable<SoftmaxFn> softmax;
extern KernelTable<SoftmaxBackwardFn> softmax_backward;

}  // namespace ag::kernels
