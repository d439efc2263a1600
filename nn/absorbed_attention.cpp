// AttentionBase::absorbed_weights and absorbed_attention: the absorbed latent form of mla.h
// (its absorbed forward and streaming).
#include "attention_core.h"
#include "autograd/ops.h"

namespace nn {

AbsorbedWeights AttentionBase::absorbed_weights(const Linear& uk, const Linear& uv,
                                                const Linear& out) const {
  const int64_t H = config_.num_heads, d = config_.d_model, L = uk.weight.size(1);
  Tensor w_uv = ag::reshape(uv.weight, {H, d_k_, L});  // [H, d_k, L] per-head blocks
  AbsorbedWeights a;
  a.folded = AbsorbedWeights::folds(H, L, d);
  a.uk = ag::reshape(uk.weight, {H, d_k_, L});
  a.out_bias = out.bias;
  if (!a.folded) {
    a.uv_t = ag::transpose(w_uv, 1, 2);                   // [H, L, d_k]
    a.out = out.weight;                                   // [d, d]
    a.bias_rows = ag::reshape(uv.bias, {H, 1, d_k_});     // [H, 1, d_k]
    return a;
  }
  // The output projection's columns per head.
  Tensor w_o = ag::permute(ag::reshape(out.weight, {d, H, d_k_}), {1, 0, 2});  // [H, d, d_k]
  // The folded output projection W~ [d, H*L], block h = W_o_h W_uv_h.
  a.out = ag::reshape(ag::permute(ag::matmul(w_o, w_uv), {1, 0, 2}), {d, H * L});
  // Value bias: head h adds rowsum(A_h) W_o_h b_uv_h.
  a.bias_rows = ag::reshape(ag::matmul(w_o, ag::reshape(uv.bias, {H, d_k_, 1})), {H, d});
  return a;
}

Tensor AttentionBase::absorbed_attention(const Tensor& q, const HeldFrames& c,
                                         const AbsorbedWeights& a, const Tensor& mask,
                                         const HeldFrames& p) const {
  const int64_t B = q.size(0), H = q.size(1), T = q.size(2), S = c.count, L = c.data.size(2);
  // Scores against the latent: q~ = content query . W_uk_h.
  Tensor qs = scaled(q);                                                         // [B, H, T, d_k]
  Tensor qt = ag::matmul(content_query(qs), ag::broadcast_to(a.uk, {B, H, d_k_, L}));  // [B, H, T, L]
  Tensor s = matmul_held(ag::reshape(qt, {B, H * T, L}), c, true);               // [B, H*T, S]
  s = ag::reshape(s, {B, H, T, S});
  if (config_.relative) s = ag::add(s, position_scores(qs, p));
  Tensor w = attention_weights(s, mask, config_.dropout, is_training());         // [B, H, T, S]

  // Weighted latents, plus the value bias in proportion to each head's weight sum.
  Tensor u = ag::reshape(matmul_held(ag::reshape(w, {B, H * T, S}), c, false), {B, H, T, L});
  Tensor rowsum = ag::sum(w, {-1}, true);                                        // [B, H, T, 1]
  if (!a.folded) {
    Tensor v = ag::matmul(u, ag::broadcast_to(a.uv_t, {B, H, L, d_k_}));         // [B, H, T, d_k]
    v = ag::add(v, ag::mul(rowsum, a.bias_rows));
    return ag::linear(merge_heads(v), a.out, a.out_bias);                        // [B, T, d]
  }
  Tensor y = ag::linear(merge_heads(u), a.out, a.out_bias);                      // [B, T, d]
  rowsum = ag::reshape(ag::transpose(rowsum, 1, 2), {B, T, H});                 // [B, T, H]
  return ag::add(y, ag::matmul(rowsum, a.bias_rows));                           // [B, T, d]
}

}  // namespace nn
