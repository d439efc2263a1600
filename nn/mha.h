// Multi-head attention (ESPnet MultiHeadedAttention / RelPositionMultiHeadedAttention):
// per-head queries, keys and values from full d_model -> d_model projections.
// Parameters: linear_q, linear_k, linear_v, linear_out (with bias), plus linear_pos,
// pos_bias_u, pos_bias_v under relative positions.
#pragma once
#include "attention_core.h"

namespace nn {

class MultiHeadAttention : public AttentionBase {
 public:
  explicit MultiHeadAttention(const AttentionConfig& c);
  Tensor forward(const Tensor& x, const Tensor& mask, const Tensor& pos_emb) override;
  CrossMemory cross_memory(const Tensor& memory) override;
  Tensor forward_cross(const Tensor& x, const CrossMemory& m, const Tensor& mask,
                       const AttentionStreamWeights* shared = nullptr) override;
  // Caches keys and values [B, H, S, d_k].
  Tensor forward_chunk(const Tensor& x, AttentionCache& cache,
                       const AttentionStreamWeights& shared) override;
  ChunkCost chunk_cost(int64_t T, int64_t S) const override;
  int64_t cache_floats_per_frame() const override { return 2 * config_.d_model; }

  std::shared_ptr<Linear> linear_q, linear_k, linear_v, linear_out;  // d_model -> d_model

 protected:
  int64_t int8_cache_bytes(int64_t history, int64_t chunks) const override {
    return int8_kv_bytes(config_.num_heads, history, chunks);
  }
};

}  // namespace nn
