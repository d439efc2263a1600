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
  check_inputs(x, mask, pos_emb);
  const int64_t G = config_.num_kv_heads;
  Tensor q = split_heads(linear_q->forward(x), config_.num_heads);  // [B, H, T, d_k]
  Tensor k = split_heads(linear_k->forward(x), G);                  // [B, G, T, d_k]
  Tensor v = split_heads(linear_v->forward(x), G);                  // [B, G, T, d_k]
  return attend_groups(q, k, v, mask, pos_emb);
}

Tensor GroupedQueryAttention::forward_chunk(const Tensor& x, AttentionCache& cache,
                                            const Tensor& pos_emb) {
  check_chunk(x, cache.frames(), pos_emb);
  const int64_t G = config_.num_kv_heads;
  Tensor q = split_heads(linear_q->forward(x), config_.num_heads);                // [B, H, T, d_k]
  Tensor k = append_frames(cache.k, split_heads(linear_k->forward(x), G), 2);  // [B, G, S+T, d_k]
  Tensor v = append_frames(cache.v, split_heads(linear_v->forward(x), G), 2);  // [B, G, S+T, d_k]
  cache.k = last_frames(k, 2, cache.max_frames);
  cache.v = last_frames(v, 2, cache.max_frames);
  return attend_groups(q, k, v, Tensor(), pos_emb);
}

Tensor GroupedQueryAttention::attend_groups(const Tensor& q, const Tensor& k, const Tensor& v,
                                            const Tensor& mask, const Tensor& pos_emb) const {
  const int64_t B = q.size(0), H = q.size(1), T = q.size(2), G = k.size(1), S = k.size(2);
  Tensor qs = scaled(q);
  // Heads h = g * (H/G) + r are contiguous per group: [B, H, T, d_k] is [B, G, (H/G)*T, d_k].
  Tensor qg = ag::reshape(content_query(qs), {B, G, H / G * T, d_k_});
  Tensor s = ag::reshape(ag::matmul(qg, k, false, true), {B, H, T, S});  // [B, H, T, S]
  if (config_.relative) s = ag::add(s, position_scores(qs, pos_emb));
  Tensor w = attention_weights(s, mask, config_.dropout, is_training());  // [B, H, T, S]
  Tensor o = ag::matmul(ag::reshape(w, {B, G, H / G * T, S}), v);         // [B, G, H/G*T, d_k]
  return linear_out->forward(merge_heads(ag::reshape(o, {B, H, T, d_k_})));  // [B, T, d_model]
}

}  // namespace nn
