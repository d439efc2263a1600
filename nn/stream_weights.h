// What all streams of a model share, per attention layer: weights derived once from the
// layer's parameters (docs/streaming.md), counted as weights, not as any stream's cache bytes.
#pragma once
#include "autograd/tensor.h"

namespace nn {

using ag::Tensor;

// The absorbed form's weights (mla.h), derived from mla's projections. The weighted latents
// u_h [T, L] of head h reach the output either through the folded projection W_o_h W_uv_h
// [d, L] (cost H*L*d per frame) or through W_uv_h, then W_o (L*d + d*d per frame): folded
// when that is cheaper, i.e. (H-1)*L <= d.
struct AbsorbedWeights {
  // Whether H heads with latent L fold into the output projection at d_model d.
  static bool folds(int64_t H, int64_t L, int64_t d) { return (H - 1) * L <= d; }

  bool folded = false;
  Tensor uk;         // [H, d_k, L]   W_uk per head
  Tensor out;        // folded: [d, H*L], block h = W_o_h W_uv_h; else linear_out's [d, d]
  Tensor bias_rows;  // folded: [H, d] W_o_h b_uv_h; else [H, 1, d_k] b_uv per head; added in
                     // proportion to head h's attention-weight sums
  Tensor uv_t;       // unfolded: [H, L, d_k] W_uv_h transposed
  Tensor out_bias;   // [d]           linear_out's bias
};

struct AttentionStreamWeights {
  // Relative positions: linear_pos of the relative position embeddings, per head
  // [H, 2P-1, d_k] for positions P-1 .. -(P-1) (row j: position P-1-j), so that no chunk
  // projects positions again; undefined for absolute positions and linear attention.
  Tensor pos;
  AbsorbedWeights absorbed;  // mla

  // Positions P the table covers (0 without one).
  int64_t positions() const { return pos.defined() ? (pos.size(1) + 1) / 2 : 0; }
  // Bytes of the tensors derived here (each in storage of its own).
  int64_t bytes() const;
};

}  // namespace nn
