#include "gqa.h"

#include "autograd/ops.h"

namespace nn {

GroupedQueryAttention::GroupedQueryAttention(const AttentionConfig& c) : AttentionBase(c) {
  const int64_t d = c.d_model, kv = c.num_kv_heads * d_k_;
  linear_q = register_module("linear_q", std::make_shared<Linear>(d, d));
  linear_k = register_module("linear_k", std::make_shared<Linear>(d, kv));
  linear_v = register_module("linear_v", std::make_shared<Linear>(d, kv));
  linear_out = register_module("linear_out", std::make_shared<Linear>(d, d));
  register_relative();
}

Tensor GroupedQueryAttention::forward(const Tensor& x, const Tensor& mask,
                                      const Tensor& pos_emb) {
  accept_inputs(x, mask, pos_emb);
  const int64_t G = config_.num_kv_heads;
  Tensor q = split_heads(linear_q->forward(x), config_.num_heads);  // [B, H, T, d_k]
  Tensor k = split_heads(linear_k->forward(x), G);                  // [B, G, T, d_k]
  Tensor v = split_heads(linear_v->forward(x), G);                  // [B, G, T, d_k]
  Tensor o = attend_groups(q, HeldFrames::all(k), HeldFrames::all(v), mask,
                           full_positions(pos_emb, x.size(0)));  // [B, H, T, d_k]
  return linear_out->forward(merge_heads(o));                     // [B, T, d_model]
}

CrossMemory GroupedQueryAttention::cross_memory(const Tensor& memory) {
  return grouped_cross_memory(*linear_k, *linear_v, config_.num_kv_heads, memory);
}

Tensor GroupedQueryAttention::forward_cross(const Tensor& x, const CrossMemory& m,
                                            const Tensor& mask, const AttentionStreamWeights*) {
  return grouped_cross(*linear_q, *linear_out, x, m, mask);
}

Tensor GroupedQueryAttention::forward_chunk(const Tensor& x, AttentionCache& cache,
                                            const AttentionStreamWeights& shared) {
  return grouped_chunk(*linear_q, *linear_k, *linear_v, *linear_out, config_.num_kv_heads, x,
                       cache, shared);
}

ChunkCost GroupedQueryAttention::chunk_cost(int64_t T, int64_t S) const {
  const int64_t d = config_.d_model, G = config_.num_kv_heads;
  ChunkCost c;
  c.linear(T, d, d);               // q
  c.linear(T, d, G * d_k_);        // k
  c.linear(T, d, G * d_k_);        // v
  c += attend_groups_cost(T, S, G);
  c.linear(T, d, d);               // out
  return c;
}

}  // namespace nn
