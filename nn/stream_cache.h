// Streaming caches: what each layer keeps between the chunks of a stream (docs/streaming.md).
// Attention caches hold the past frames' keys and values in the variant's own compact form,
// in frame buffers that append without copying the history (float32, or int8 with scales);
// convolution caches hold the last input frames a depthwise convolution needs on its left.
#pragma once
#include "cache_frames.h"

namespace nn {

// One attention layer's history. Which buffers are used depends on the variant:
//   mha:               k, v   [B, H, S, d_k]            (int8: k per channel, v per token)
//   gqa:               k, v   [B, num_kv_heads, S, d_k]  (as mha)
//   mla (mla_simple):  latent [B, S, latent_dim]          (int8: per token)
//   linear:            s [B, H, d_k, d_k], z [B, H, 1, d_k] (running sums, no frames)
// S = frames(): the history frames held, at most max_frames when max_frames >= 0.
struct AttentionCache {
  int64_t max_frames = -1;  // history kept after each chunk: all (< 0) or the last max_frames
  CacheFrames k, v;
  CacheFrames latent;
  Tensor s, z;

  int64_t frames() const;
  // Keeps the streams `rows` int64 [N] of the batch, in that order, repeats allowed (a beam's
  // surviving hypotheses); float32 caches only.
  void select(const Tensor& rows);
  // Bytes of the history held (the frames held with their int8 scales, and the states), as
  // the formulas count them.
  int64_t bytes() const;
  // Bytes allocated: bytes() plus the frame buffers' spare capacity (in all at most twice
  // the held frames plus a chunk).
  int64_t capacity_bytes() const;
};

// What cross-attention reads from an encoder output of S frames (Attention::cross_memory):
//   mha, gqa:          k, v   [B, G, S, d_k]  (G = num_heads for mha, num_kv_heads for gqa)
//   mla (mla_simple):  latent [B, S, latent_dim]: one latent per frame for keys and values
// B is 1 when one utterance's memory serves a batch of hypotheses.
struct CrossMemory {
  Tensor k, v, latent;
  int64_t frames() const;
  int64_t batch() const;
  int64_t bytes() const;  // float32 bytes of the tensors held
};

// One encoder block's caches: its attention and its depthwise convolution (Conformer's
// conv module, Branchformer's CSGU): conv [B, C, context] the last input frames.
struct BlockCache {
  AttentionCache attention;
  Tensor conv;
  int64_t conv_bytes() const;
};

}  // namespace nn
