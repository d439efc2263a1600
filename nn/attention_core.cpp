#include "attention_core.h"

#include <cmath>

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
  return ag::masked_softmax(scores, mask, dropout, training);  // [B, H, T, S]
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

void AttentionBase::accept_memory(const Tensor& memory) const {
  const std::string who = name();
  AG_CHECK(!config_.relative, who, ": cross-attention takes no relative positions (configure "
           "it absolute)");
  AG_CHECK(memory.dim() == 3 && memory.size(2) == config_.d_model, who,
           ": cross-attention memory ", shape_str(memory.shape()), " is not [B, S, ",
           config_.d_model, "]");
  if (input_observer) input_observer(memory, Tensor(), Tensor());
}

void AttentionBase::check_cross(const Tensor& x, const CrossMemory& m, const Tensor& mask) const {
  const std::string who = name();
  AG_CHECK(x.dim() == 3 && x.size(2) == config_.d_model, who, ": cross-attention input ",
           shape_str(x.shape()), " is not [B, T, ", config_.d_model, "]");
  const int64_t B = x.size(0), T = x.size(1), S = m.frames();
  AG_CHECK(m.batch() == B || m.batch() == 1, who, ": cross-attention memory of batch ",
           m.batch(), " for input ", shape_str(x.shape()), " (memory batch is B or 1)");
  if (mask.defined()) {
    AG_CHECK(mask.dtype() == ag::DType::u8 && mask.dim() == 3 && mask.size(0) == B &&
                 (mask.size(1) == 1 || mask.size(1) == T) && mask.size(2) == S,
             who, ": cross-attention mask ", shape_str(mask.shape()), " is not uint8 [", B,
             ", 1, ", S, "] or [", B, ", ", T, ", ", S, "]");
  }
}

void AttentionBase::accept_inputs(const Tensor& x, const Tensor& mask,
                                  const Tensor& pos_emb) const {
  check_inputs(x, mask, pos_emb);
  if (input_observer) input_observer(x, mask, pos_emb);
}

void AttentionBase::check_chunk(const Tensor& x, int64_t history,
                                const AttentionStreamWeights& shared) const {
  check_input(x, Tensor());
  AG_CHECK(!is_training(), name(), ": streaming is inference only (call eval())");
  const int64_t need = history + x.size(1);
  AG_CHECK(!config_.relative || shared.positions() >= need, name(), ": the shared position ",
           "table covers ", shared.positions(), " positions, the chunk needs ", need,
           " (Encoder::forward_chunk grows it)");
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

Tensor AttentionBase::stream_positions(const Tensor& pos_table) const {
  if (!config_.relative || !linear_pos) return Tensor();
  const int64_t H = config_.num_heads, rows = pos_table.size(1);
  Tensor p = split_heads(linear_pos->forward(pos_table), H);  // [1, H, 2P-1, d_k]
  return ag::reshape(p, {H, rows, d_k_});                     // [H, 2P-1, d_k]
}

HeldFrames AttentionBase::full_positions(const Tensor& pos_emb, int64_t B) const {
  if (!config_.relative) return {};
  const int64_t H = config_.num_heads, P = pos_emb.size(1);
  Tensor p = split_heads(linear_pos->forward(pos_emb), H);  // [1, H, P, d_k]
  // Broadcast over the batch up front: one regular batched GEMM instead of B*H single ones.
  return HeldFrames::all(ag::broadcast_to(p, {B, H, P, d_k_}));
}

HeldFrames AttentionBase::chunk_positions(const AttentionStreamWeights& shared, int64_t S,
                                          int64_t T) const {
  if (!config_.relative) return {};
  // Row j of the table holds position P-1-j: positions S+T-1 .. -(T-1) start at P-S-T.
  return {shared.pos, shared.positions() - S - T, S + 2 * T - 1};
}

Tensor AttentionBase::position_scores(const Tensor& qs, const HeldFrames& p) const {
  Tensor qv = ag::add(qs, head_bias(pos_bias_v, scale_));
  return ag::rel_shift(matmul_held(qv, p, true));  // [B, H, T, P - T + 1]
}

Tensor AttentionBase::attend_groups(const Tensor& q, const HeldFrames& k, const HeldFrames& v,
                                    const Tensor& mask, const HeldFrames& p) const {
  const int64_t B = q.size(0), H = q.size(1), T = q.size(2), G = k.data.size(1), S = k.count;
  Tensor qs = scaled(q);
  // Heads h = g * (H/G) + r are contiguous per group: [B, H, T, d_k] is [B, G, (H/G)*T, d_k].
  Tensor qg = ag::reshape(content_query(qs), {B, G, H / G * T, d_k_});
  Tensor s = ag::reshape(matmul_held(qg, k, true), {B, H, T, S});             // [B, H, T, S]
  if (config_.relative) s = ag::add(s, position_scores(qs, p));
  Tensor w = attention_weights(s, mask, config_.dropout, is_training());      // [B, H, T, S]
  Tensor o = matmul_held(ag::reshape(w, {B, G, H / G * T, S}), v, false);     // [B, G, H/G*T, d_k]
  return ag::reshape(o, {B, H, T, d_k_});                                      // [B, H, T, d_k]
}

CrossMemory AttentionBase::grouped_cross_memory(const Linear& k, const Linear& v, int64_t G,
                                                const Tensor& memory) const {
  accept_memory(memory);
  return {split_heads(k.forward(memory), G), split_heads(v.forward(memory), G),
          Tensor()};  // k, v [B, G, S, d_k]
}

Tensor AttentionBase::grouped_cross(const Linear& q_proj, const Linear& out, const Tensor& x,
                                    const CrossMemory& m, const Tensor& mask) const {
  check_cross(x, m, mask);
  Tensor q = split_heads(q_proj.forward(x), config_.num_heads);  // [B, H, T, d_k]
  Tensor o = attend_groups(q, HeldFrames::all(m.k), HeldFrames::all(m.v), mask, {});
  return out.forward(merge_heads(o));  // [B, T, d_model]
}

Tensor AttentionBase::grouped_chunk(const Linear& q_proj, const Linear& k_proj, const Linear& v_proj,
                                    const Linear& out, int64_t G, const Tensor& x,
                                    AttentionCache& cache, const AttentionStreamWeights& shared) const {
  const int64_t S = cache.frames(), T = x.size(1);
  check_chunk(x, S, shared);
  Tensor q = split_heads(q_proj.forward(x), config_.num_heads);  // [B, H, T, d_k]
  cache.k.append(split_heads(k_proj.forward(x), G));             // [B, G, S+T, d_k] held
  cache.v.append(split_heads(v_proj.forward(x), G));
  Tensor o = attend_groups(q, cache.k.held(), cache.v.held(), Tensor(),
                           chunk_positions(shared, S, T));  // [B, H, T, d_k]
  cache.k.keep_last(cache.max_frames);
  cache.v.keep_last(cache.max_frames);
  return out.forward(merge_heads(o));  // [B, T, d_model]
}

ChunkCost AttentionBase::attend_groups_cost(int64_t T, int64_t S, int64_t G) const {
  const int64_t H = config_.num_heads, N = S + T;
  ChunkCost c;
  c.gemm(G, H / G * T, N, d_k_);                               // scores against the keys
  if (config_.relative) c.gemm(H, T, S + 2 * T - 1, d_k_);     // position scores
  c.gemm(G, H / G * T, d_k_, N);                               // weighted values
  return c;
}

int64_t AttentionBase::int8_kv_bytes(int64_t G, int64_t history, int64_t chunks) const {
  const int64_t scale = static_cast<int64_t>(sizeof(float));
  return 2 * G * d_k_ * history + scale * G * history + scale * G * d_k_ * chunks;
}

}  // namespace nn
