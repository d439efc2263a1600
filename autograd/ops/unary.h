// Element-wise math and activations; each backward is one fused kernel.
#pragma once
#include "../tensor.h"

namespace ag {

Tensor neg(const Tensor& x);
Tensor exp(const Tensor& x);
Tensor log(const Tensor& x);
Tensor sqrt(const Tensor& x);
Tensor rsqrt(const Tensor& x);
Tensor abs(const Tensor& x);
Tensor clamp(const Tensor& x, float min, float max);
Tensor relu(const Tensor& x);
Tensor gelu(const Tensor& x);  // exact (erf) form, as torch.nn.GELU()
Tensor silu(const Tensor& x);  // x * sigmoid(x), a.k.a. Swish
Tensor sigmoid(const Tensor& x);
Tensor tanh(const Tensor& x);
Tensor elu(const Tensor& x, float alpha = 1.0f);

inline Tensor operator-(const Tensor& x) { return neg(x); }

}  // namespace ag
