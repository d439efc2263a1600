// What the softmax attention variants share: head split/merge, the masked softmax with
// dropout, and the relative-position (Transformer-XL) term of ESPnet's
// RelPositionMultiHeadedAttention (rel_pos_type "latest"):
//   scores = ((q + u) k^T + rel_shift((q + v) p^T)) / sqrt(d_k),   p = heads(linear_pos(pos_emb))
// with learned biases u = pos_bias_u, v = pos_bias_v [H, d_k]. Absolute positions: q k^T / sqrt(d_k).
// The 1/sqrt(d_k) is applied to the queries (fewer elements than the scores).
#pragma once
#include <functional>
#include <memory>

#include "attention.h"
#include "frame_buffer.h"
#include "linear.h"

namespace nn {

// x [B, T, H*d] -> [B, H, T, d]
Tensor split_heads(const Tensor& x, int64_t heads);
// x [B, H, T, d] -> [B, T, H*d]
Tensor merge_heads(const Tensor& x);
// mask [B, 1, S] or [B, T, S] (1 = may attend) -> [B, 1, 1, S] or [B, 1, T, S], 1 = masked out.
Tensor masked_out(const Tensor& mask);
// scores [B, H, T, S] -> weights [B, H, T, S]: softmax over keys; masked keys (mask 0) get
// exactly 0, so a fully masked row is all zeros (as ESPnet); then dropout in training.
Tensor attention_weights(const Tensor& scores, const Tensor& mask, float dropout, bool training);

// Base of the variants: config, checks, and the relative-position parameters
// (linear_pos, pos_bias_u, pos_bias_v) when config.relative.
class AttentionBase : public Attention {
 public:
  const AttentionConfig& config() const { return config_; }
  int64_t d_k() const { return d_k_; }

  std::shared_ptr<Linear> linear_pos;  // d_model -> d_model, no bias (relative only)
  Tensor pos_bias_u, pos_bias_v;       // [H, d_k] (relative only)

  // When set, forward() (mha, gqa, mla) first hands it its inputs (x [B, T, d_model], mask,
  // pos_emb, as forward takes them). asr-convert uses it to collect the inputs reaching each
  // layer.
  std::function<void(const Tensor& x, const Tensor& mask, const Tensor& pos_emb)> input_observer;

  // linear_pos per head when relative (and linear_pos exists: not for linear attention).
  Tensor stream_positions(const Tensor& pos_table) const override;

 protected:
  explicit AttentionBase(const AttentionConfig& c);
  // Registers linear_pos, pos_bias_u and pos_bias_v when relative (call after the projections,
  // as ESPnet registers them).
  void register_relative();
  // "attention (mha)", for messages
  std::string name() const { return "attention (" + config_.type + ")"; }
  // Checks x [B, T, d_model] and mask [B, 1, T] / [B, T, T] (or undefined); errors name the
  // variant.
  void check_input(const Tensor& x, const Tensor& mask) const;
  // check_input, and pos_emb [1, 2T-1, d_model] defined exactly when relative.
  void check_inputs(const Tensor& x, const Tensor& mask, const Tensor& pos_emb) const;
  // memory [B, S, d_model] and an absolute config, for cross_memory (which then hands it to
  // input_observer: the input of the key and value projections).
  void accept_memory(const Tensor& memory) const;
  // x [B, T, d_model], m of batch B or 1, mask [B, 1|T, S] (or undefined), for forward_cross.
  void check_cross(const Tensor& x, const CrossMemory& m, const Tensor& mask) const;
  // check_inputs, then input_observer when set.
  void accept_inputs(const Tensor& x, const Tensor& mask, const Tensor& pos_emb) const;
  // A chunk x [B, T, d_model] after `history` cached frames, inference only; when relative,
  // shared.pos covers positions history+T-1.
  void check_chunk(const Tensor& x, int64_t history, const AttentionStreamWeights& shared) const;
  // pos_emb [1, P, d_model] defined exactly when relative, for input x
  void check_positions(const Tensor& x, int64_t positions, const Tensor& pos_emb) const;
  // q [B, H, T, d_k] -> q / sqrt(d_k)
  Tensor scaled(const Tensor& q) const;
  // qs = scaled(q) [B, H, T, d_k] -> the query for the content term: qs + u / sqrt(d_k)
  // (relative) or qs itself (absolute)
  Tensor content_query(const Tensor& qs) const;
  // The full pass's projected positions: pos_emb [1, P, d_model] (or undefined: absolute)
  // -> all of linear_pos(pos_emb) per head, broadcast over a batch of B [B, H, P, d_k] (one
  // regular batched GEMM after), or nothing.
  HeldFrames full_positions(const Tensor& pos_emb, int64_t B) const;
  // A chunk's positions S+T-1 .. -(T-1): rows of shared.pos [H, S+2T-1, d_k], read in place
  // (nothing when absolute).
  HeldFrames chunk_positions(const AttentionStreamWeights& shared, int64_t S, int64_t T) const;
  // qs [B, H, T, d_k], p [.., H, P, d_k] projected positions -> rel_shift((qs + v / sqrt(d_k))
  // p^T) [B, H, T, P - T + 1]; relative only.
  Tensor position_scores(const Tensor& qs, const HeldFrames& p) const;
  // Softmax attention of q [B, H, T, d_k] against G key/value heads k, v [B, G, S, d_k] (G
  // divides H; query head h reads head h / (H/G); the H/G query heads of a group are stacked
  // into one [H/G * T, d_k] matrix, so keys and values are never repeated), with the masked
  // softmax and dropout of attention_weights and position rows p (position_scores'; none when
  // absolute) -> heads [B, H, T, d_k]
  Tensor attend_groups(const Tensor& q, const HeldFrames& k, const HeldFrames& v,
                       const Tensor& mask, const HeldFrames& p) const;
  // One streaming chunk x [B, T, d_model] of G key/value heads (MHA: G = H; GQA): the chunk's
  // keys and values appended to the cache, attend_groups over the held frames, the cache kept
  // to its window -> [B, T, d_model].
  // Cross-attention of MHA (G = num_heads) and GQA (G = num_kv_heads): the memory's keys and
  // values [B, G, S, d_k], and the queries of x attending to them.
  CrossMemory grouped_cross_memory(const Linear& k, const Linear& v, int64_t G,
                                   const Tensor& memory) const;
  Tensor grouped_cross(const Linear& q, const Linear& out, const Tensor& x, const CrossMemory& m,
                       const Tensor& mask) const;
  Tensor grouped_chunk(const Linear& q, const Linear& k, const Linear& v, const Linear& out,
                       int64_t G, const Tensor& x, AttentionCache& cache,
                       const AttentionStreamWeights& shared) const;
  // The absorbed latent attention (mla.h). Its weights from the up-projections uk, uv
  // (L -> H*d_k) and the output projection out (d -> d):
  AbsorbedWeights absorbed_weights(const Linear& uk, const Linear& uv, const Linear& out) const;
  // q [B, H, T, d_k], latent c [B, S, L], mask as attend_groups', projected positions p as
  // position_scores' -> [B, T, d_model]
  Tensor absorbed_attention(const Tensor& q, const HeldFrames& c, const AbsorbedWeights& a,
                            const Tensor& mask, const HeldFrames& p) const;
  // The matrix products of attend_groups on one stream's chunk (B = 1): T queries against
  // S + T keys of G heads, with the chunk's positions when relative.
  ChunkCost attend_groups_cost(int64_t T, int64_t S, int64_t G) const;
  // Bytes of G int8 key/value heads (B = 1) after `history` frames in `chunks` chunks: a byte
  // per element, a scale per value frame and head, per key channel and head per chunk.
  int64_t int8_kv_bytes(int64_t G, int64_t history, int64_t chunks) const;

  AttentionConfig config_;
  int64_t d_k_;
  float scale_;  // 1 / sqrt(d_k)
};

}  // namespace nn
