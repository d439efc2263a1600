#include "linear_attention.h"

#include "autograd/ops.h"

namespace nn {
namespace {

Tensor phi(const Tensor& x) { return ag::add(ag::elu(x), 1.0f); }

// numerator [B, H, T, d_k] / (normalizer [B, H, T, 1] + eps)
Tensor normalized(const Tensor& num, const Tensor& den) {
  return ag::div(num, ag::add(den, LinearAttention::kEps));
}

}  // namespace

LinearAttention::LinearAttention(const AttentionConfig& c) : AttentionBase(c) {
  const int64_t d = c.d_model;
  linear_q = register_module("linear_q", std::make_shared<Linear>(d, d));
  linear_k = register_module("linear_k", std::make_shared<Linear>(d, d));
  linear_v = register_module("linear_v", std::make_shared<Linear>(d, d));
  linear_out = register_module("linear_out", std::make_shared<Linear>(d, d));
}

LinearAttention::Features LinearAttention::features(const Tensor& x, const Tensor& padding) const {
  const int64_t H = config_.num_heads;
  Features f;
  f.fq = phi(split_heads(linear_q->forward(x), H));  // [B, H, T, d_k]
  f.fk = phi(split_heads(linear_k->forward(x), H));  // [B, H, T, d_k]
  f.v = split_heads(linear_v->forward(x), H);        // [B, H, T, d_k]
  if (padding.defined())  // [B, 1, T] -> [B, 1, T, 1]: padded keys out of every sum
    f.fk = ag::masked_fill(f.fk, ag::unsqueeze(ag::logical_not(padding), -1), 0.0f);
  return f;
}

Tensor LinearAttention::forward(const Tensor& x, const Tensor& mask, const Tensor& pos_emb) {
  check_inputs(x, mask, pos_emb);
  const bool general = mask.defined() && mask.size(1) != 1;
  Features f = features(x, general ? Tensor() : mask);
  Tensor o;  // [B, H, T, d_k]
  if (general) {
    Tensor a = ag::matmul(f.fq, f.fk, false, true);  // [B, H, T, T]
    a = ag::masked_fill(a, masked_out(mask), 0.0f);
    o = normalized(ag::matmul(a, f.v), ag::sum(a, {-1}, true));
  } else {
    Tensor s = ag::matmul(f.fk, f.v, true, false);  // [B, H, d_k, d_k]
    Tensor z = ag::sum(f.fk, {2}, true);            // [B, H, 1, d_k]
    o = normalized(ag::matmul(f.fq, s), ag::matmul(f.fq, z, false, true));
  }
  return linear_out->forward(merge_heads(o));  // [B, T, d_model]
}

Tensor LinearAttention::forward_chunk(const Tensor& x, AttentionCache& cache,
                                     const AttentionStreamWeights& /*no positions, no weights*/) {
  check_input(x, Tensor());
  AG_CHECK(cache.max_frames < 0, name(), ": a history of ", cache.max_frames,
           " frames (finite left_chunks) cannot be kept by the fixed-size state; stream with ",
           "left_chunks -1");
  if (!cache.s.defined()) {
    const int64_t B = x.size(0), H = config_.num_heads;
    cache.s = ag::zeros({B, H, d_k_, d_k_}, ag::DType::f32, x.device());
    cache.z = ag::zeros({B, H, 1, d_k_}, ag::DType::f32, x.device());
  }
  Features f = features(x, Tensor());
  cache.s = ag::add(cache.s, ag::matmul(f.fk, f.v, true, false));  // [B, H, d_k, d_k]
  cache.z = ag::add(cache.z, ag::sum(f.fk, {2}, true));            // [B, H, 1, d_k]
  Tensor o = normalized(ag::matmul(f.fq, cache.s), ag::matmul(f.fq, cache.z, false, true));
  return linear_out->forward(merge_heads(o));  // [B, T, d_model]
}

ChunkCost LinearAttention::chunk_cost(int64_t T, int64_t /*S: the state has no frames*/) const {
  const int64_t d = config_.d_model, H = config_.num_heads;
  ChunkCost c;
  for (int i = 0; i < 3; ++i) c.linear(T, d, d);  // q, k, v
  c.gemm(H, d_k_, d_k_, T);                       // the chunk's phi(k)^T v into the state
  c.gemm(H, T, d_k_, d_k_);                       // phi(q) s
  c.gemm(H, T, 1, d_k_);                          // phi(q) z^T
  c.linear(T, d, d);                              // out
  return c;
}

LinearAttention::State LinearAttention::initial_state(int64_t B) const {
  const int64_t H = config_.num_heads;
  return State{ag::zeros({B, H, d_k_, d_k_}), ag::zeros({B, H, 1, d_k_})};
}

Tensor LinearAttention::forward_recurrent(const Tensor& x, State& state, const Tensor& mask) const {
  check_input(x, mask);
  AG_CHECK(!mask.defined() || mask.size(1) == 1, name(),
           ": the recurrent form takes a padding mask [B, 1, T], got ",
           ag::shape_str(mask.shape()));
  const int64_t B = x.size(0), T = x.size(1);
  AG_CHECK(state.s.defined() && state.s.size(0) == B, name(), ": state for batch ",
           state.s.defined() ? state.s.size(0) : 0, " used with input ", ag::shape_str(x.shape()));
  if (T == 0) return ag::zeros({B, 0, config_.d_model});
  Features f = features(x, mask);
  std::vector<Tensor> outs;  // T x [B, H, 1, d_k]
  for (int64_t t = 0; t < T; ++t) {
    Tensor fq = ag::narrow(f.fq, 2, t, 1), fk = ag::narrow(f.fk, 2, t, 1);  // [B, H, 1, d_k]
    state.s = ag::add(state.s, ag::matmul(fk, ag::narrow(f.v, 2, t, 1), true, false));
    state.z = ag::add(state.z, fk);
    outs.push_back(normalized(ag::matmul(fq, state.s), ag::matmul(fq, state.z, false, true)));
  }
  return linear_out->forward(merge_heads(ag::concat(outs, 2)));  // [B, T, d_model]
}

}  // namespace nn
