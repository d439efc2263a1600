// Grouped-query attention: num_kv_heads key/value heads, each shared by
// num_heads / num_kv_heads consecutive query heads (query head h reads KV head h / group).
// Parameters: linear_q (d -> d), linear_k and linear_v (d -> num_kv_heads * d_k),
// linear_out, plus the relative-position ones when relative. The shared keys and values
// are never repeated: each group's queries are stacked into one [group*T, d_k] matrix.
#pragma once
#include "attention_core.h"

namespace nn {

class GroupedQueryAttention : public AttentionBase {
 public:
  explicit GroupedQueryAttention(const AttentionConfig& c);
  Tensor forward(const Tensor& x, const Tensor& mask, const Tensor& pos_emb) override;
  // Caches the num_kv_heads keys and values [B, num_kv_heads, S, d_k].
  Tensor forward_chunk(const Tensor& x, AttentionCache& cache, const Tensor& pos_emb) override;
  int64_t cache_floats_per_frame() const override { return 2 * config_.num_kv_heads * d_k_; }

  std::shared_ptr<Linear> linear_q, linear_k, linear_v, linear_out;

 private:
  // q [B, H, T, d_k] against k, v [B, G, S, d_k], mask as attend's, pos_emb [1, S+T-1, d]
  // when relative -> [B, T, d_model]
  Tensor attend_groups(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& mask,
                       const Tensor& pos_emb) const;
};

}  // namespace nn
