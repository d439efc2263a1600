#include "mla_simple.h"

#include "autograd/ops.h"

namespace nn {

SimpleLatentAttention::SimpleLatentAttention(const AttentionConfig& c) : AttentionBase(c) {
  const int64_t d = c.d_model, L = c.latent_dim;
  linear_q = register_module("linear_q", std::make_shared<Linear>(d, d));
  linear_dkv = register_module("linear_dkv", std::make_shared<Linear>(d, L, false));
  linear_uk = register_module("linear_uk", std::make_shared<Linear>(L, d));
  linear_uv = register_module("linear_uv", std::make_shared<Linear>(L, d));
  linear_out = register_module("linear_out", std::make_shared<Linear>(d, d));
  register_relative();
}

Tensor SimpleLatentAttention::forward(const Tensor& x, const Tensor& mask,
                                      const Tensor& pos_emb) {
  check_inputs(x, mask, pos_emb);
  const int64_t H = config_.num_heads;
  Tensor c = linear_dkv->forward(x);                  // [B, T, L]
  Tensor q = split_heads(linear_q->forward(x), H);    // [B, H, T, d_k]
  Tensor k = split_heads(linear_uk->forward(c), H);   // [B, H, T, d_k]
  Tensor v = split_heads(linear_uv->forward(c), H);   // [B, H, T, d_k]
  Tensor o = attend(scores(q, k, pos_emb), mask, v);  // [B, H, T, d_k]
  return linear_out->forward(merge_heads(o));         // [B, T, d_model]
}

Tensor SimpleLatentAttention::forward_chunk(const Tensor& x, AttentionCache& cache,
                                            const Tensor& pos_emb) {
  check_chunk(x, cache.frames(), pos_emb);
  Tensor q = split_heads(linear_q->forward(x), config_.num_heads);  // [B, H, T, d_k]
  Tensor c = append_frames(cache.latent, linear_dkv->forward(x), 1);  // [B, S+T, L]
  cache.latent = last_frames(c, 1, cache.max_frames);
  if (!cache.absorbed.out.defined())
    cache.absorbed = absorbed_weights(*linear_uk, *linear_uv, *linear_out);
  return absorbed_attention(q, c, cache.absorbed, Tensor(), pos_emb);  // [B, T, d_model]
}

}  // namespace nn
