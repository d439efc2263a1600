// Softmax and log-softmax along the middle axis of a [outer, n, inner] view of a
// contiguous tensor, with fused backward.
#pragma once
#include <cstdint>

#include "../dispatch.h"
#include "host_device.h"

namespace ag::kernels {

// y = softmax(x) (log_softmax(x) when `log`) over k of x[o, k, i].   x, y: [outer, n, inner]
using SoftmaxFn = void(const float* x, float* y, int64_t outer, int64_t n, int64_t inner,
                       bool log);
// From the forward output y and its gradient gy:
//   softmax:     gx = y * (gy - sum_k gy * y)
//   log_softmax: gx = gy - exp(y) * sum_k gy                  y, gy, gx: [outer, n, inner]
using SoftmaxBackwardFn = void(const float* y, const float* gy, float* gx, int64_t outer,
                               int64_t n, int64_t inner, bool log);

// Attention's masked softmax over the keys of each score row: y[r, k] = softmax over the keys
// kept (keep[m(r), k] != 0) of x[r, ·], and 0 at the other keys; a row with no key kept is
// all 0. Score row r = (b * heads + h) * t + i reads mask row m(r) = b * mask_t + (mask_t == 1
// ? 0 : i). Without a mask the op runs the plain softmax kernel instead.
//   x, y: [rows, n], rows = B * heads * t;  keep: [B, mask_t, n]
using MaskedSoftmaxFn = void(const float* x, const uint8_t* keep, float* y, int64_t rows,
                             int64_t n, int64_t heads, int64_t t, int64_t mask_t);
// The mask row of score row r (above).
AG_HOST_DEVICE inline int64_t mask_row(int64_t r, int64_t heads, int64_t t, int64_t mask_t) {
  return r / (heads * t) * mask_t + (mask_t == 1 ? 0 : r % t);
}

extern KernelTable<SoftmaxFn> softmax;
extern KernelTable<MaskedSoftmaxFn> masked_softmax;
extern KernelTable<SoftmaxBackwardFn> softmax_backward;

}  // namespace ag::kernels
