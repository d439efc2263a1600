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
  const int64_t B = x.size(0), T = x.size(1), H = config_.num_heads, G = config_.num_kv_heads;
  Tensor q = split_heads(linear_q->forward(x), H);  // [B, H, T, d_k]
  Tensor k = split_heads(linear_k->forward(x), G);  // [B, G, T, d_k]
  Tensor v = split_heads(linear_v->forward(x), G);  // [B, G, T, d_k]
  Tensor qs = scaled(q);
  // Heads h = g * (H/G) + r are contiguous per group: [B, H, T, d_k] is [B, G, (H/G)*T, d_k].
  Tensor qg = ag::reshape(content_query(qs), {B, G, H / G * T, d_k_});
  Tensor s = ag::reshape(ag::matmul(qg, k, false, true), {B, H, T, T});  // [B, H, T, T]
  if (config_.relative) s = ag::add(s, position_scores(qs, pos_emb));
  Tensor w = attention_weights(s, mask, config_.dropout, is_training());  // [B, H, T, T]
  Tensor o = ag::matmul(ag::reshape(w, {B, G, H / G * T, T}), v);         // [B, G, H/G*T, d_k]
  return linear_out->forward(merge_heads(ag::reshape(o, {B, H, T, d_k_})));  // [B, T, d_model]
}

}  // namespace nn
