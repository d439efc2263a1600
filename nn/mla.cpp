#include "mla.h"

#include "autograd/ops.h"

namespace nn {

MultiHeadLatentAttention::MultiHeadLatentAttention(const AttentionConfig& c) : AttentionBase(c) {
  const int64_t d = c.d_model, L = c.latent_dim, Q = c.q_latent_dim;
  if (Q > 0) {
    linear_dq = register_module("linear_dq", std::make_shared<Linear>(d, Q, false));
    linear_uq = register_module("linear_uq", std::make_shared<Linear>(Q, d));
  } else {
    linear_q = register_module("linear_q", std::make_shared<Linear>(d, d));
  }
  linear_dkv = register_module("linear_dkv", std::make_shared<Linear>(d, L, false));
  linear_uk = register_module("linear_uk", std::make_shared<Linear>(L, d));
  linear_uv = register_module("linear_uv", std::make_shared<Linear>(L, d));
  linear_out = register_module("linear_out", std::make_shared<Linear>(d, d));
  register_relative();
}

Tensor MultiHeadLatentAttention::query(const Tensor& x) const {
  Tensor q = linear_q ? linear_q->forward(x) : linear_uq->forward(linear_dq->forward(x));
  return split_heads(q, config_.num_heads);  // [B, H, T, d_k]
}

Tensor MultiHeadLatentAttention::forward(const Tensor& x, const Tensor& mask,
                                         const Tensor& pos_emb) {
  check_inputs(x, mask, pos_emb);
  Tensor q = query(x);   // [B, H, T, d_k]
  Tensor c = latent(x);  // [B, T, L]
  if (absorb_) return absorbed(q, c, mask, pos_emb);
  return linear_out->forward(merge_heads(plain_heads(q, c, mask, pos_emb)));
}

Tensor MultiHeadLatentAttention::plain_heads(const Tensor& q, const Tensor& c,
                                             const Tensor& mask, const Tensor& pos_emb) const {
  const int64_t H = config_.num_heads;
  Tensor k = split_heads(linear_uk->forward(c), H);  // [B, H, T, d_k]
  Tensor v = split_heads(linear_uv->forward(c), H);  // [B, H, T, d_k]
  return attend(scores(q, k, pos_emb), mask, v);     // [B, H, T, d_k]
}

Tensor MultiHeadLatentAttention::absorbed(const Tensor& q, const Tensor& c, const Tensor& mask,
                                          const Tensor& pos_emb) const {
  const int64_t B = q.size(0), H = q.size(1), T = q.size(2), S = c.size(1);
  const int64_t L = config_.latent_dim, d = config_.d_model;
  // Per-head blocks of the up-projections and of linear_out's columns.
  Tensor w_uk = ag::reshape(linear_uk->weight, {H, d_k_, L});                        // [H, d_k, L]
  Tensor w_uv = ag::reshape(linear_uv->weight, {H, d_k_, L});                        // [H, d_k, L]
  Tensor w_o = ag::permute(ag::reshape(linear_out->weight, {d, H, d_k_}), {1, 0, 2});  // [H, d, d_k]

  // Scores against the latent: q~ = content query . W_uk_h.
  Tensor qs = scaled(q);                                                         // [B, H, T, d_k]
  Tensor qt = ag::matmul(content_query(qs), ag::broadcast_to(w_uk, {B, H, d_k_, L}));  // [B, H, T, L]
  Tensor s = ag::matmul(ag::reshape(qt, {B, H * T, L}), c, false, true);         // [B, H*T, S]
  s = ag::reshape(s, {B, H, T, S});
  if (config_.relative) s = ag::add(s, position_scores(qs, pos_emb));
  Tensor w = attention_weights(s, mask, config_.dropout, is_training());         // [B, H, T, S]

  // Weighted latents through the folded output projection W~ [d, H*L], block h = W_o_h W_uv_h.
  Tensor u = ag::reshape(ag::matmul(ag::reshape(w, {B, H * T, S}), c), {B, H, T, L});
  Tensor w_out = ag::reshape(ag::permute(ag::matmul(w_o, w_uv), {1, 0, 2}), {d, H * L});
  Tensor out = ag::linear(merge_heads(u), w_out, linear_out->bias);  // [B, T, d]

  // Value bias: head h adds rowsum(A_h) W_o_h b_uv_h.
  Tensor b_uv = ag::reshape(linear_uv->bias, {H, d_k_, 1});
  Tensor bias_rows = ag::reshape(ag::matmul(w_o, b_uv), {H, d});                 // [H, d]
  Tensor rowsum = ag::transpose(ag::sum(w, {-1}), 1, 2);                        // [B, T, H]
  return ag::add(out, ag::matmul(rowsum, bias_rows));                           // [B, T, d]
}

}  // namespace nn
