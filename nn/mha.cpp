#include "mha.h"

#include "autograd/ops.h"

namespace nn {

MultiHeadAttention::MultiHeadAttention(const AttentionConfig& c) : AttentionBase(c) {
  const int64_t d = c.d_model;
  linear_q = register_module("linear_q", std::make_shared<Linear>(d, d));
  linear_k = register_module("linear_k", std::make_shared<Linear>(d, d));
  linear_v = register_module("linear_v", std::make_shared<Linear>(d, d));
  linear_out = register_module("linear_out", std::make_shared<Linear>(d, d));
  register_relative();
}

Tensor MultiHeadAttention::forward(const Tensor& x, const Tensor& mask, const Tensor& pos_emb) {
  check_inputs(x, mask, pos_emb);
  if (input_observer) input_observer(x, mask, pos_emb);
  const int64_t H = config_.num_heads;
  Tensor q = split_heads(linear_q->forward(x), H);  // [B, H, T, d_k]
  Tensor k = split_heads(linear_k->forward(x), H);  // [B, H, T, d_k]
  Tensor v = split_heads(linear_v->forward(x), H);  // [B, H, T, d_k]
  Tensor o = attend(scores(q, k, pos_emb), mask, v);  // [B, H, T, d_k]
  return linear_out->forward(merge_heads(o));         // [B, T, d_model]
}

Tensor MultiHeadAttention::forward_chunk(const Tensor& x, AttentionCache& cache,
                                         const Tensor& pos_emb) {
  check_chunk(x, cache.frames(), pos_emb);
  const int64_t H = config_.num_heads;
  Tensor q = split_heads(linear_q->forward(x), H);                         // [B, H, T, d_k]
  Tensor k = append_frames(cache.k, split_heads(linear_k->forward(x), H), 2);  // [B, H, S+T, d_k]
  Tensor v = append_frames(cache.v, split_heads(linear_v->forward(x), H), 2);  // [B, H, S+T, d_k]
  cache.k = last_frames(k, 2, cache.max_frames);
  cache.v = last_frames(v, 2, cache.max_frames);
  Tensor o = attend(scores(q, k, pos_emb), Tensor(), v);  // [B, H, T, d_k]
  return linear_out->forward(merge_heads(o));             // [B, T, d_model]
}

}  // namespace nn
