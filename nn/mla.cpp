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
  if (absorb_)
    return absorbed_attention(q, c, absorbed_weights(*linear_uk, *linear_uv, *linear_out), mask,
                              pos_emb);
  return linear_out->forward(merge_heads(plain_heads(q, c, mask, pos_emb)));
}

Tensor MultiHeadLatentAttention::plain_heads(const Tensor& q, const Tensor& c,
                                             const Tensor& mask, const Tensor& pos_emb) const {
  const int64_t H = config_.num_heads;
  Tensor k = split_heads(linear_uk->forward(c), H);  // [B, H, T, d_k]
  Tensor v = split_heads(linear_uv->forward(c), H);  // [B, H, T, d_k]
  return attend(scores(q, k, pos_emb), mask, v);     // [B, H, T, d_k]
}

Tensor MultiHeadLatentAttention::forward_chunk(const Tensor& x, AttentionCache& cache,
                                               const Tensor& pos_emb) {
  check_chunk(x, cache.frames(), pos_emb);
  Tensor q = query(x);                                                  // [B, H, T, d_k]
  Tensor c = append_frames(cache.latent, latent(x), 1);                 // [B, S+T, L]
  cache.latent = last_frames(c, 1, cache.max_frames);
  if (!cache.absorbed.out.defined())
    cache.absorbed = absorbed_weights(*linear_uk, *linear_uv, *linear_out);
  return absorbed_attention(q, c, cache.absorbed, Tensor(), pos_emb);  // [B, T, d_model]
}

}  // namespace nn
