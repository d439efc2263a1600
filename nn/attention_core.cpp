#include "attention_core.h"

#include <cmath>
#include <limits>

#include "autograd/ops.h"
#include "init.h"

namespace nn {

using ag::shape_str;

namespace {

// A bias [H, d_k] scaled as the queries and shaped to broadcast over [B, H, T, d_k].
Tensor head_bias(const Tensor& bias, float scale) {
  return ag::reshape(ag::mul(bias, scale), {bias.size(0), 1, bias.size(1)});  // [H, 1, d_k]
}

}  // namespace

Tensor split_heads(const Tensor& x, int64_t heads) {
  const int64_t B = x.size(0), T = x.size(1), d = x.size(2) / heads;
  return ag::permute(ag::reshape(x, {B, T, heads, d}), {0, 2, 1, 3});  // [B, H, T, d]
}

Tensor merge_heads(const Tensor& x) {
  const int64_t B = x.size(0), H = x.size(1), T = x.size(2), d = x.size(3);
  return ag::reshape(ag::permute(x, {0, 2, 1, 3}), {B, T, H * d});  // [B, T, H*d]
}

Tensor masked_out(const Tensor& mask) { return ag::logical_not(ag::unsqueeze(mask, 1)); }

Tensor attention_weights(const Tensor& scores, const Tensor& mask, float dropout,
                         bool training) {
  Tensor w;  // [B, H, T, S]
  if (mask.defined()) {
    Tensor out = masked_out(mask);  // [B, 1, 1|T, S]
    // The most negative float (not -inf) keeps fully masked rows finite; the second fill
    // zeroes them.
    w = ag::softmax(ag::masked_fill(scores, out, std::numeric_limits<float>::lowest()), -1);
    w = ag::masked_fill(w, out, 0.0f);
  } else {
    w = ag::softmax(scores, -1);
  }
  return ag::dropout(w, dropout, training);
}

AttentionBase::AttentionBase(const AttentionConfig& c) : config_(c) {
  validate(c);
  d_k_ = c.d_model / c.num_heads;
  scale_ = 1.0f / std::sqrt(static_cast<float>(d_k_));
}

void AttentionBase::register_relative() {
  if (!config_.relative) return;
  const int64_t H = config_.num_heads;
  pos_bias_u = register_parameter("pos_bias_u", init::xavier_uniform({H, d_k_}, d_k_, H));
  pos_bias_v = register_parameter("pos_bias_v", init::xavier_uniform({H, d_k_}, d_k_, H));
  linear_pos = register_module(
      "linear_pos", std::make_shared<Linear>(config_.d_model, config_.d_model, false));
}

void AttentionBase::check_input(const Tensor& x, const Tensor& mask) const {
  const std::string who = name();
  AG_CHECK(x.dim() == 3 && x.size(2) == config_.d_model, who, ": input ", shape_str(x.shape()),
           " is not [B, T, ", config_.d_model, "]");
  const int64_t B = x.size(0), T = x.size(1);
  if (mask.defined()) {
    AG_CHECK(mask.dtype() == ag::DType::u8 && mask.dim() == 3 && mask.size(0) == B &&
                 (mask.size(1) == 1 || mask.size(1) == T) && mask.size(2) == T,
             who, ": mask ", shape_str(mask.shape()), " is not uint8 [", B, ", 1, ", T,
             "] or [", B, ", ", T, ", ", T, "] for input ", shape_str(x.shape()));
  }
}

void AttentionBase::check_inputs(const Tensor& x, const Tensor& mask,
                                 const Tensor& pos_emb) const {
  check_input(x, mask);
  check_positions(x, 2 * x.size(1) - 1, pos_emb);
}

void AttentionBase::check_chunk(const Tensor& x, int64_t history, const Tensor& pos_emb) const {
  check_input(x, Tensor());
  check_positions(x, history + 2 * x.size(1) - 1, pos_emb);
}

void AttentionBase::check_positions(const Tensor& x, int64_t positions,
                                    const Tensor& pos_emb) const {
  const std::string who = name();
  if (!config_.relative) {
    AG_CHECK(!pos_emb.defined(), who,
             ": absolute positions take no pos_emb, got ", shape_str(pos_emb.shape()));
    return;
  }
  AG_CHECK(pos_emb.defined(), who, ": relative positions need pos_emb [1, ", positions, ", ",
           config_.d_model, "]");
  AG_CHECK(pos_emb.dim() == 3 && pos_emb.size(0) == 1 && pos_emb.size(1) == positions &&
               pos_emb.size(2) == config_.d_model,
           who, ": pos_emb ", shape_str(pos_emb.shape()), " is not [1, ", positions, ", ",
           config_.d_model, "] for input ", shape_str(x.shape()));
}

Tensor AttentionBase::scaled(const Tensor& q) const { return ag::mul(q, scale_); }

Tensor AttentionBase::content_query(const Tensor& qs) const {
  if (!config_.relative) return qs;
  return ag::add(qs, head_bias(pos_bias_u, scale_));
}

Tensor AttentionBase::position_scores(const Tensor& qs, const Tensor& pos_emb) const {
  const int64_t B = qs.size(0), H = qs.size(1), P = pos_emb.size(1);
  Tensor p = split_heads(linear_pos->forward(pos_emb), H);  // [1, H, P, d_k]
  // Broadcast over the batch up front: one regular batched GEMM instead of B*H single ones.
  p = ag::broadcast_to(p, {B, H, P, d_k_});                  // [B, H, P, d_k]
  Tensor qv = ag::add(qs, head_bias(pos_bias_v, scale_));
  return ag::rel_shift(ag::matmul(qv, p, false, true));      // [B, H, T, P - T + 1]
}

Tensor AttentionBase::scores(const Tensor& q, const Tensor& k, const Tensor& pos_emb) const {
  Tensor qs = scaled(q);                                            // [B, H, T, d_k]
  Tensor s = ag::matmul(content_query(qs), k, false, true);         // [B, H, T, S]
  return config_.relative ? ag::add(s, position_scores(qs, pos_emb)) : s;
}

Tensor AttentionBase::attend(const Tensor& scores, const Tensor& mask, const Tensor& v) const {
  return ag::matmul(attention_weights(scores, mask, config_.dropout, is_training()), v);
}

}  // namespace nn
