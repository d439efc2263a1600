// Multi-head latent attention (DeepSeek-V2), without RoPE: positions come from the
// relative-position term (relative configs) or from the input (absolute). Built for
// attention_type mla and mla_simple; mla_simple names the configuration with a full-rank
// query (q_latent_dim 0), whose parameters are those listed below for q_latent_dim 0.
//
// Keys and values come from one shared latent c = x W_dkv^T [B, T, latent_dim] through
// per-head up-projections: k_h = c W_uk_h^T + b_uk_h, v_h = c W_uv_h^T + b_uv_h, with
// W_uk, W_uv [H*d_k, latent_dim] viewed as H blocks [d_k, latent_dim]. With q_latent_dim > 0
// the query is low rank too: q = (x W_dq^T) W_uq^T + b_uq.
// Parameters: linear_q (or linear_dq without bias + linear_uq), linear_dkv (no bias),
// linear_uk, linear_uv, linear_out, plus the relative-position ones when relative.
//
// Absorbed form (set_absorb(true); for inference and streaming, where the cache holds c):
// W_uk is folded into the query and W_uv into the output projection, so keys and values are
// never formed:
//   scores_h = q~_h c^T (+ position term),  q~_h = (q_h + u_h) W_uk_h / sqrt(d_k)   [T, L]
//   out      = sum_h (A_h c) (W_o_h W_uv_h)^T + sum_h rowsum(A_h) (W_o_h b_uv_h) + b_o
// where W_o_h [d, d_k] is head h's block of linear_out's columns. The key bias adds
// (q_h + u_h) . b_uk_h / sqrt(d_k), a constant per query row, which softmax cancels, so it is
// dropped exactly. The value bias reaches the output through the row sums of the weights (1,
// or 0 for a fully masked row; dropout changes them in training), which are kept exactly.
//
// Streaming caches the latent c only. Each chunk attends either in the absorbed form or
// re-expanded: keys and values of the whole history up-projected from the cache, k_h^T =
// W_uk_h c^T, v_h^T = W_uv_h c^T (2 (S+T) L d multiply-adds), then attended as MHA. The
// absorbed form costs about 2 H T (S+T) L, the re-expanded one 2 (S+T) d (L + T): per chunk
// the cheaper by chunk_cost (chunk_cost.h), unless set_chunk_form fixes one.
#pragma once
#include "attention_core.h"

namespace nn {

class MultiHeadLatentAttention : public AttentionBase {
 public:
  // How a streaming chunk attends: the cheaper form by chunk_cost, or always one.
  enum class ChunkForm { cheaper, absorbed, expanded };

  explicit MultiHeadLatentAttention(const AttentionConfig& c);
  Tensor forward(const Tensor& x, const Tensor& mask, const Tensor& pos_emb) override;
  CrossMemory cross_memory(const Tensor& memory) override;
  Tensor forward_cross(const Tensor& x, const CrossMemory& m, const Tensor& mask,
                       const AttentionStreamWeights* shared = nullptr) override;
  // Caches the latent c [B, S, L] only.
  Tensor forward_chunk(const Tensor& x, AttentionCache& cache,
                       const AttentionStreamWeights& shared) override;
  // The absorbed weights.
  AttentionStreamWeights stream_weights() const override;
  // The cost of the form a chunk of T frames after S takes.
  ChunkCost chunk_cost(int64_t T, int64_t S) const override;
  // The cost of either form (ChunkForm::absorbed or expanded).
  ChunkCost form_cost(ChunkForm form, int64_t T, int64_t S) const;
  // The form a chunk of T frames after S takes.
  ChunkForm chunk_form(int64_t T, int64_t S) const;
  void set_chunk_form(ChunkForm form) { chunk_form_ = form; }
  int64_t cache_floats_per_frame() const override { return config_.latent_dim; }

  // Uses the absorbed form from now on (true) or the plain one (false, the default).
  void set_absorb(bool on) { absorb_ = on; }
  bool absorb() const { return absorb_; }
  // x [B, T, d_model] -> the shared key/value latent c [B, T, latent_dim]
  Tensor latent(const Tensor& x) const { return linear_dkv->forward(x); }

  std::shared_ptr<Linear> linear_q;              // d -> d (q_latent_dim == 0)
  std::shared_ptr<Linear> linear_dq, linear_uq;  // d -> q_latent (no bias) -> d (q_latent_dim > 0)
  std::shared_ptr<Linear> linear_dkv;            // d -> latent, no bias
  std::shared_ptr<Linear> linear_uk, linear_uv;  // latent -> H*d_k
  std::shared_ptr<Linear> linear_out;            // d -> d

 private:
  // x [B, T, d] -> q [B, H, T, d_k]
  Tensor query(const Tensor& x) const;
  // The plain form from q [B, H, T, d_k] and c [B, T, L] -> heads [B, H, T, d_k]
  Tensor plain_heads(const Tensor& q, const Tensor& c, const Tensor& mask,
                     const Tensor& pos_emb) const;
  // A chunk re-expanded: q [B, H, T, d_k], the held latent c [B, S+T, L], the chunk's
  // positions p -> heads [B, H, T, d_k]
  Tensor expanded_heads(const Tensor& q, const HeldFrames& c, const HeldFrames& p) const;

  // int8: a byte per latent element and a scale per frame.
  int64_t int8_cache_bytes(int64_t history, int64_t /*chunks*/) const override {
    return (config_.latent_dim + static_cast<int64_t>(sizeof(float))) * history;
  }

  bool absorb_ = false;
  ChunkForm chunk_form_ = ChunkForm::cheaper;
};

}  // namespace nn
