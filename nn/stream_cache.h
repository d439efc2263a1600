// Streaming caches: what each layer keeps between the chunks of a stream (docs/streaming.md).
// Attention caches hold the past frames' keys and values in the variant's own compact form;
// convolution caches hold the last input frames a depthwise convolution needs on its left.
#pragma once
#include "autograd/tensor.h"

namespace nn {

using ag::Tensor;

// The absorbed form's weights (mla.h), derived from mla's projections. The
// weighted latents u_h [T, L] of head h reach the output either through the folded
// projection W_o_h W_uv_h [d, L] (cost H*L*d per frame) or through W_uv_h, then W_o
// (L*d + d*d per frame): folded when that is cheaper, i.e. (H-1)*L <= d.
struct AbsorbedWeights {
  bool folded = false;
  Tensor uk;         // [H, d_k, L]   W_uk per head
  Tensor out;        // folded: [d, H*L], block h = W_o_h W_uv_h; else linear_out's [d, d]
  Tensor bias_rows;  // folded: [H, d] W_o_h b_uv_h; else [H, 1, d_k] b_uv per head; added in
                     // proportion to head h's attention-weight sums
  Tensor uv_t;       // unfolded: [H, L, d_k] W_uv_h transposed
  Tensor out_bias;   // [d]           linear_out's bias
};

// One attention layer's history. Which tensors are defined depends on the variant:
//   mha:            k, v   [B, H, S, d_k]
//   gqa:            k, v   [B, num_kv_heads, S, d_k]
//   mla (and mla_simple): latent [B, S, latent_dim]
//   linear:         s [B, H, d_k, d_k], z [B, H, 1, d_k] (running sums, no frames)
// S = frames(): the history frames held, at most max_frames when max_frames >= 0.
struct AttentionCache {
  int64_t max_frames = -1;  // history kept after each chunk: all (< 0) or the last max_frames
  Tensor k, v;
  Tensor latent;
  Tensor s, z;
  // mla: the absorbed weights, derived at the first chunk (a stream runs with fixed
  // weights); not history, so not counted in bytes().
  AbsorbedWeights absorbed;

  int64_t frames() const;
  // Bytes of the tensors held.
  int64_t bytes() const;
};

// One encoder block's caches: its attention and its depthwise convolution (Conformer's
// conv module, Branchformer's CSGU): conv [B, C, context] the last input frames.
struct BlockCache {
  AttentionCache attention;
  Tensor conv;
  int64_t conv_bytes() const;
};

// history [.., S, ..] (or undefined: none) followed by next [.., T, ..] along dim
// -> [.., S + T, ..]
Tensor append_frames(const Tensor& history, const Tensor& next, int64_t dim);
// x [.., N, ..] -> its last min(N, max_frames) frames along dim (a copy); x when max_frames < 0.
Tensor last_frames(const Tensor& x, int64_t dim, int64_t max_frames);

}  // namespace nn
