// The analytic cost of one Conformer training step (forward + backward) for the benchmarks:
// every matrix product with its shape (as OpenBLAS would be called: row-major, transposes)
// and the multiply-adds of the depthwise convolution, which is not a matrix product.
// Elementwise work (norms, activations, softmax, Adam) is not counted: the count is the
// work a perfect implementation could not avoid, so FLOP/s against it measures how close
// the step gets to the machine's matrix-product peak.
//
// Per block and forward pass (N = B*T rows, d model width, f FFN width, H heads of d_k,
// G key/value heads, K kernel):
//   two feed-forward modules   2 x (N*d*f + N*f*d)
//   attention projections      N*d*d (q) + 2 N*d*G*d_k (k, v) + N*d*d (out)
//   scores and weighted values B*H * (T*T*d_k + T*T*d_k)
//   relative positions         (2T-1)*d*d (linear_pos, once) + B*H*T*(2T-1)*d_k
//   convolution module         N*d*2d + N*d*K (depthwise) + N*d*d
// Backward: a product of the same size per operand that needs a gradient (both, except
// linear_pos's input, the fixed position table), so a step is about 3x the forward count;
// FLOPs = 2 x multiply-adds. Grouped heads run as ag does: the H/G query heads of a group
// stacked into one [(H/G) T, d_k] matrix.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "autograd/error.h"
#include "nn/encoder_config.h"

namespace bench {

struct Gemm {
  int64_t M, N, K;
  bool ta, tb;
  int64_t count;  // how many times the step runs it
};

struct StepCost {
  std::vector<Gemm> gemms;   // forward and backward
  double other_flops = 0;    // the depthwise convolution, forward and backward
  double flops = 0;          // everything
  double gemm_flops() const { return flops - other_flops; }
};

namespace detail {
// A product y = op(a) op(b) [M, N] (inner size K) and the backward products for the operands
// that need a gradient, shaped as ag::matmul's backward calls them, each `count` times.
inline void product_with_backward(StepCost& c, int64_t M, int64_t N, int64_t K, bool ta, bool tb,
                                  int64_t count, bool grad_a = true) {
  c.gemms.push_back({M, N, K, ta, tb, count});
  int64_t products = 2;  // the forward and grad b
  if (grad_a) {
    c.gemms.push_back(ta ? Gemm{K, M, N, tb, true, count} : Gemm{M, K, N, false, !tb, count});
    ++products;
  }
  c.gemms.push_back(tb ? Gemm{N, K, M, true, ta, count} : Gemm{K, N, M, !ta, false, count});
  c.flops += products * 2.0 * static_cast<double>(M) * N * K * count;
}
}  // namespace detail

// The cost of one step of c.num_layers Conformer blocks on x [B, T, d]; MHA and GQA
// attention (the other types are not modelled: AG_CHECK).
inline StepCost conformer_step_cost(const nn::EncoderConfig& c, int64_t B, int64_t T) {
  const std::string& type = c.attention.type;
  AG_CHECK(type == "mha" || type == "gqa", "conformer_step_cost: attention '", type,
           "' is not modelled (mha, gqa)");
  const int64_t N = B * T, d = c.d_model, f = c.ffn_dim, H = c.attention.num_heads, dk = d / H;
  const int64_t G = type == "gqa" ? c.attention.num_kv_heads : H, L = c.num_layers;
  const bool relative = c.positional_encoding == "relative";
  StepCost s;
  using detail::product_with_backward;
  // x [N, in] times weight [out, in]^T
  auto linear = [&](int64_t in, int64_t out) {
    product_with_backward(s, N, out, in, false, true, L);
  };
  linear(d, f), linear(f, d), linear(d, f), linear(f, d);  // two feed-forward modules
  linear(d, d), linear(d, G * dk), linear(d, G * dk), linear(d, d);
  const int64_t rows = H / G * T;                                      // a group's queries
  product_with_backward(s, rows, T, dk, false, true, B * G * L);       // q k^T
  product_with_backward(s, rows, dk, T, false, false, B * G * L);      // weights v
  if (relative) {
    product_with_backward(s, 2 * T - 1, d, d, false, true, L, false);  // linear_pos
    product_with_backward(s, T, 2 * T - 1, dk, false, true, B * H * L);  // q p^T
  }
  linear(d, 2 * d), linear(d, d);  // the convolution module's pointwise convolutions
  s.other_flops = 3.0 * 2.0 * static_cast<double>(N) * d * c.conv_kernel * L;
  s.flops += s.other_flops;
  return s;
}

}  // namespace bench
