// Matrix products. Transposed operands are read through the BLAS flags, never copied.
#pragma once
#include "../tensor.h"

namespace ag {

// a: [..., M, K] ([..., K, M] with trans_a), b: [..., K, N] ([..., N, K] with trans_b)
// -> [..., M, N]; batch dims broadcast. Both operands have at least 2 dims.
// e.g. attention scores: matmul(q, k, false, true) for q [B,H,T,D], k [B,H,S,D].
Tensor matmul(const Tensor& a, const Tensor& b, bool trans_a = false, bool trans_b = false);

// The activation a linear layer applies to its output, fused into the op (see linear).
enum class Activation { none, relu, gelu, silu };

// act(x W^T + b): x [..., in] -> [..., out] with weight [out, in] (PyTorch's layout), optional
// bias [out] and optional activation, as one op: the bias is added inside the GEMM and the
// activation's gradient is taken once for the input, weight and bias gradients.
Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias = Tensor(),
              Activation act = Activation::none);

// matmul(a, narrow(b, -2, first, rows), false, trans_b) without copying b: each matrix of
// b [..., R, K] is read from its row `first` on, `rows` rows (a streaming cache with spare
// capacity, a window of a position table). b's batch dims equal a's last ones; a's extra
// leading dims broadcast over b. a [..., M, K] with trans_b -> [..., M, rows];
// a [..., M, rows] without -> [..., M, K]. Inference only: refuses inputs that need gradients
// while gradients are recorded.
Tensor matmul_window(const Tensor& a, const Tensor& b, int64_t first, int64_t rows, bool trans_b);

// Totals over every GEMM that matmul, linear and matmul_window ran (all threads, forward and
// backward): multiply-adds (M*N*K per matrix product) and operand bytes read (each operand
// once per matrix it supplies; a broadcast operand once per GEMM call). For cost models.
struct GemmCount {
  int64_t multiply_adds = 0, bytes_read = 0;
};
GemmCount gemm_count();

}  // namespace ag
