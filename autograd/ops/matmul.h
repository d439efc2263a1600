// Matrix products. Transposed operands are read through the BLAS flags, never copied.
#pragma once
#include "../tensor.h"

namespace ag {

// a: [..., M, K] ([..., K, M] with trans_a), b: [..., K, N] ([..., N, K] with trans_b)
// -> [..., M, N]; batch dims broadcast. Both operands have at least 2 dims.
// e.g. attention scores: matmul(q, k, false, true) for q [B,H,T,D], k [B,H,S,D].
Tensor matmul(const Tensor& a, const Tensor& b, bool trans_a = false, bool trans_b = false);

// x [..., in] -> [..., out] with weight [out, in] (PyTorch's layout) and optional bias [out].
Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias = Tensor());

}  // namespace ag
