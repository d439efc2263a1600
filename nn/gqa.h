// Grouped-query attention: num_kv_heads key/value heads, each shared by
// num_heads / num_kv_heads consecutive query heads (query head h reads KV head h / group).
// Parameters: linear_q (d -> d), linear_k and linear_v (d -> num_kv_heads * d_k),
// linear_out, plus the relative-position ones when relative. The shared keys and values
// are never repeated (AttentionBase::attend_groups).
#pragma once
#include "attention_core.h"

namespace nn {

class GroupedQueryAttention : public AttentionBase {
 public:
  explicit GroupedQueryAttention(const AttentionConfig& c);
  Tensor forward(const Tensor& x, const Tensor& mask, const Tensor& pos_emb) override;
  CrossMemory cross_memory(const Tensor& memory) override;
  Tensor forward_cross(const Tensor& x, const CrossMemory& m, const Tensor& mask,
                       const AttentionStreamWeights* shared = nullptr) override;
  // Caches the num_kv_heads keys and values [B, num_kv_heads, S, d_k].
  Tensor forward_chunk(const Tensor& x, AttentionCache& cache,
                       const AttentionStreamWeights& shared) override;
  ChunkCost chunk_cost(int64_t T, int64_t S) const override;
  int64_t cache_floats_per_frame() const override { return 2 * config_.num_kv_heads * d_k_; }

  std::shared_ptr<Linear> linear_q, linear_k, linear_v, linear_out;

 protected:
  int64_t int8_cache_bytes(int64_t history, int64_t chunks) const override {
    return int8_kv_bytes(config_.num_kv_heads, history, chunks);
  }
};

}  // namespace nn
