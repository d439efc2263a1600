// In-place optimizer updates and gradient-norm helpers (no autograd).
#pragma once
#include <cstdint>

#include "../dispatch.h"

namespace ag::kernels {

struct AdamParams {
  float lr, beta1, beta2, eps, weight_decay;
  bool decoupled;                 // AdamW: decay the weights, not the gradient
  float bias_correction1;         // 1 - beta1^t
  float bias_correction2;         // 1 - beta2^t
};
// p, g, m (first moment), v (second moment): n elements each.
using AdamFn = void(float* p, const float* g, float* m, float* v, int64_t n, const AdamParams& a);

struct SgdParams {
  float lr, momentum, weight_decay;
  bool nesterov;
};
// buf (the momentum buffer) is null when momentum is 0.
using SgdFn = void(float* p, const float* g, float* buf, int64_t n, const SgdParams& s);

// Sum of squares in double (for global gradient norms).
using SumSquaresFn = double(const float* x, int64_t n);
// x *= s
using ScaleFn = void(float* x, int64_t n, float s);

extern KernelTable<AdamFn> adam_step;
extern KernelTable<SgdFn> sgd_step;
extern KernelTable<SumSquaresFn> sum_squares;
extern KernelTable<ScaleFn> scale;

}  // namespace ag::kernels
