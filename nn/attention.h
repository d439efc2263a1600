// Self-attention: the interface every variant implements, and the factory.
// Variants (attention_type): mha, mla (DeepSeek-V2), mla_simple (the name of mla with a
// full-rank query, q_latent_dim 0), gqa, linear.
#pragma once
#include <memory>
#include <string>

#include "chunk_cost.h"
#include "module.h"
#include "stream_cache.h"
#include "stream_weights.h"

namespace nn {

struct AttentionConfig {
  std::string type = "mha";  // mha | mla | mla_simple | gqa | linear
  int64_t d_model = 256;
  int64_t num_heads = 4;
  int64_t latent_dim = 0;    // mla, mla_simple: size of the shared key/value latent
  int64_t q_latent_dim = 0;  // mla: low-rank query size (0: full-rank query; mla_simple: 0)
  int64_t num_kv_heads = 0;  // gqa: key/value heads, each shared by num_heads/num_kv_heads queries
  float dropout = 0.1f;      // on the attention weights
  bool relative = true;      // relative (Transformer-XL) or absolute positions
};

class Attention : public Module {
 public:
  // x [B, T, d_model];
  // mask [B, 1, T] or [B, T, T] uint8, 1 where a query may attend to a key (padding and
  //   chunk masks combined), or undefined for no mask;
  // pos_emb [1, 2T-1, d_model] relative position embeddings (positions T-1 ... -(T-1)),
  //   defined exactly when the config asks for relative positions
  // -> [B, T, d_model]
  virtual Tensor forward(const Tensor& x, const Tensor& mask, const Tensor& pos_emb) = 0;
  // Cross-attention (a decoder's source attention), absolute configs only; linear attention
  // has none (both throw). cross_memory: what the keys and values come from, projected once
  // from memory [B, S, d_model] (the encoder's output) -- a decoder computes it once per
  // utterance and every token and hypothesis reads it. forward_cross: queries from
  // x [B, T, d_model] attend to m (batch B, or 1 shared by all B); mask [B, 1, S] or
  // [B, T, S] uint8 (1 = may attend) or undefined; `shared`, when given, this layer's
  // stream_weights() (mla: attend to the latents in the absorbed form, inference only).
  // -> [B, T, d_model]
  virtual CrossMemory cross_memory(const Tensor& memory);
  virtual Tensor forward_cross(const Tensor& x, const CrossMemory& m, const Tensor& mask,
                               const AttentionStreamWeights* shared = nullptr);
  // Streaming (docs/streaming.md), inference only: x [B, T, d_model] the frames of the
  // current chunk, which follow the S = cache.frames() past frames the cache holds; every
  // query sees every key of its chunk and of the history (the full pass under a chunk mask).
  // The cache gains the chunk and is trimmed to its last cache.max_frames frames. `shared`:
  // this layer's stream weights (stream_weights(), with `pos` from stream_positions covering
  // positions S+T-1 when relative). -> [B, T, d_model]
  virtual Tensor forward_chunk(const Tensor& x, AttentionCache& cache,
                               const AttentionStreamWeights& shared) = 0;
  // What every stream of this layer shares, derived from its weights once per model
  // (Encoder::stream_weights): mla's absorbed weights; `pos` is left to stream_positions.
  virtual AttentionStreamWeights stream_weights() const { return {}; }
  // The shared position table AttentionStreamWeights::pos [H, 2P-1, d_k] from the relative
  // position embeddings pos_table [1, 2P-1, d_model] (positions P-1 .. -(P-1)); undefined
  // when the layer takes no relative positions.
  virtual Tensor stream_positions(const Tensor& pos_table) const = 0;
  // The matrix products of one stream's forward_chunk (B = 1) for a chunk of T frames after
  // S history frames (chunk_cost.h).
  virtual ChunkCost chunk_cost(int64_t T, int64_t S) const = 0;
  // Floats a streaming cache holds per frame of history (per layer), by formula:
  // mha 2*d_model, gqa 2*d_model*num_kv_heads/num_heads, mla/mla_simple latent_dim, linear 0.
  virtual int64_t cache_floats_per_frame() const = 0;
  // Floats a streaming cache holds regardless of history length (linear attention's state).
  virtual int64_t cache_floats_fixed() const { return 0; }
  // Bytes one stream's cache (B = 1) holds after `history` frames appended in `chunks`
  // chunks: float32 4 (floats per frame * history + fixed floats); int8 (mha, gqa, mla) a
  // byte per element plus 4 per scale (cache_frames.h).
  int64_t cache_bytes(int64_t history, int64_t chunks, CacheDtype dtype) const;

 protected:
  // The int8 part of cache_bytes; refused by variants without an int8 cache (linear).
  virtual int64_t int8_cache_bytes(int64_t history, int64_t chunks) const;
};

// Throws ag::Error naming the offending field when the config is inconsistent.
void validate(const AttentionConfig& c);
std::shared_ptr<Attention> make_attention(const AttentionConfig& c);

}  // namespace nn
