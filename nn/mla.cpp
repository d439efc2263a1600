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
  accept_inputs(x, mask, pos_emb);
  Tensor q = query(x);   // [B, H, T, d_k]
  Tensor c = latent(x);  // [B, T, L]
  if (absorb_)
    return absorbed_attention(q, HeldFrames::all(c),
                              absorbed_weights(*linear_uk, *linear_uv, *linear_out), mask,
                              full_positions(pos_emb, x.size(0)));
  return linear_out->forward(merge_heads(plain_heads(q, c, mask, pos_emb)));
}

CrossMemory MultiHeadLatentAttention::cross_memory(const Tensor& memory) {
  accept_memory(memory);
  return {Tensor(), Tensor(), latent(memory)};  // [B, S, L]: one latent per frame for k and v
}

Tensor MultiHeadLatentAttention::forward_cross(const Tensor& x, const CrossMemory& m,
                                               const Tensor& mask,
                                               const AttentionStreamWeights* shared) {
  check_cross(x, m, mask);
  Tensor q = query(x);  // [B, H, T, d_k]
  // Absorbed: the queries read the latents themselves; keys and values are never formed.
  if (shared && shared->absorbed.out.defined())
    return absorbed_attention(q, HeldFrames::all(m.latent), shared->absorbed, mask, {});
  if (absorb_)
    return absorbed_attention(q, HeldFrames::all(m.latent),
                              absorbed_weights(*linear_uk, *linear_uv, *linear_out), mask, {});
  return linear_out->forward(merge_heads(plain_heads(q, m.latent, mask, Tensor())));
}

Tensor MultiHeadLatentAttention::plain_heads(const Tensor& q, const Tensor& c,
                                             const Tensor& mask, const Tensor& pos_emb) const {
  const int64_t H = config_.num_heads;
  Tensor k = split_heads(linear_uk->forward(c), H);  // [B, H, T, d_k]
  Tensor v = split_heads(linear_uv->forward(c), H);  // [B, H, T, d_k]
  return attend_groups(q, HeldFrames::all(k), HeldFrames::all(v), mask,
                       full_positions(pos_emb, q.size(0)));  // [B, H, T, d_k]
}

Tensor MultiHeadLatentAttention::expanded_heads(const Tensor& q, const HeldFrames& c,
                                                const HeldFrames& p) const {
  const int64_t B = q.size(0), H = config_.num_heads, d = config_.d_model;
  const int64_t L = c.data.size(2), N = c.count;
  // k^T or v^T of every held frame, up-projected from the latents read in place.
  auto up = [&](const Linear& u) {
    Tensor t = matmul_held(ag::broadcast_to(u.weight, {B, d, L}), c, true);  // [B, d, N]
    t = ag::add(t, ag::reshape(u.bias, {d, 1}));
    return ag::reshape(t, {B, H, d_k_, N});                                  // [B, H, d_k, N]
  };
  Tensor kt = up(*linear_uk), vt = up(*linear_uv);
  Tensor qs = scaled(q);                                        // [B, H, T, d_k]
  Tensor s = ag::matmul(content_query(qs), kt);                 // [B, H, T, N]
  if (config_.relative) s = ag::add(s, position_scores(qs, p));
  Tensor w = attention_weights(s, Tensor(), config_.dropout, is_training());
  return ag::matmul(w, vt, false, true);                        // [B, H, T, d_k]
}

Tensor MultiHeadLatentAttention::forward_chunk(const Tensor& x, AttentionCache& cache,
                                               const AttentionStreamWeights& shared) {
  const int64_t S = cache.frames(), T = x.size(1);
  check_chunk(x, S, shared);
  const ChunkForm form = chunk_form(T, S);
  AG_CHECK(form != ChunkForm::absorbed || shared.absorbed.out.defined(), name(),
           ": the shared weights lack the absorbed form's (derive them with this layer's ",
           "stream_weights())");
  Tensor q = query(x);             // [B, H, T, d_k]
  cache.latent.append(latent(x));  // [B, S+T, L] held
  const HeldFrames p = chunk_positions(shared, S, T);
  Tensor y = form == ChunkForm::absorbed
                 ? absorbed_attention(q, cache.latent.held(), shared.absorbed, Tensor(), p)
                 : linear_out->forward(merge_heads(expanded_heads(q, cache.latent.held(), p)));
  cache.latent.keep_last(cache.max_frames);
  return y;  // [B, T, d_model]
}

AttentionStreamWeights MultiHeadLatentAttention::stream_weights() const {
  AttentionStreamWeights w;
  w.absorbed = absorbed_weights(*linear_uk, *linear_uv, *linear_out);
  // A snapshot in storage of its own: views of the parameters would follow a later change of
  // the weights while the folded products would not.
  for (Tensor* t : {&w.absorbed.uk, &w.absorbed.out, &w.absorbed.bias_rows, &w.absorbed.uv_t,
                    &w.absorbed.out_bias})
    if (t->defined()) *t = ag::clone_data(*t);
  return w;
}

ChunkCost MultiHeadLatentAttention::form_cost(ChunkForm form, int64_t T, int64_t S) const {
  AG_CHECK(form != ChunkForm::cheaper, name(), ": form_cost takes absorbed or expanded");
  const int64_t d = config_.d_model, H = config_.num_heads, L = config_.latent_dim;
  const int64_t Q = config_.q_latent_dim, N = S + T;
  ChunkCost c;
  if (Q > 0) {
    c.linear(T, d, Q);
    c.linear(T, Q, d);
  } else {
    c.linear(T, d, d);
  }
  c.linear(T, d, L);  // the chunk's latents
  if (form == ChunkForm::expanded) {
    c.gemm(1, d, N, L);  // keys of every held frame
    c.gemm(1, d, N, L);  // values
    c += attend_groups_cost(T, S, H);
    c.linear(T, d, d);   // out
    return c;
  }
  c.gemm(H, T, L, d_k_);      // absorbed queries
  c.gemm(1, H * T, N, L);     // scores against the latents
  if (config_.relative) c.gemm(H, T, S + 2 * T - 1, d_k_);
  c.gemm(1, H * T, L, N);     // weighted latents
  if (AbsorbedWeights::folds(H, L, d)) {  // folded output (absorbed_weights)
    c.linear(T, H * L, d);
    c.linear(T, H, d);        // value bias rows
  } else {
    c.gemm(H, T, d_k_, L);    // W_uv per head
    c.linear(T, d, d);
  }
  return c;
}

MultiHeadLatentAttention::ChunkForm MultiHeadLatentAttention::chunk_form(int64_t T,
                                                                       int64_t S) const {
  if (chunk_form_ != ChunkForm::cheaper) return chunk_form_;
  return form_cost(ChunkForm::absorbed, T, S).multiply_adds <=
                 form_cost(ChunkForm::expanded, T, S).multiply_adds
             ? ChunkForm::absorbed
             : ChunkForm::expanded;
}

ChunkCost MultiHeadLatentAttention::chunk_cost(int64_t T, int64_t S) const {
  return form_cost(chunk_form(T, S), T, S);
}

}  // namespace nn
