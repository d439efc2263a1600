// Linear attention (Katharopoulos et al. 2020, "Transformers are RNNs"): softmax(q k^T) is
// replaced by the kernel phi(q) phi(k)^T with phi(x) = elu(x) + 1, so that
//   out_i = phi(q_i)^T S / (phi(q_i)^T z + eps),  S = sum_j phi(k_j) v_j^T,  z = sum_j phi(k_j)
// costs O(T) per head. Parameters: linear_q, linear_k, linear_v, linear_out (as MHA).
//
// Masks: a padding mask [B, 1, T] drops padded keys from both sums (O(T)). A general [B, T, T]
// mask (chunk or causal masks) differs per query, which no O(T) form allows in general; it is
// computed in the O(T^2) form sum_j m_ij phi(q_i).phi(k_j) v_j / (sum_j m_ij phi(q_i).phi(k_j) + eps).
// A query with no visible key gives 0.
//
// No dropout: the O(T) form never materializes attention weights (config.dropout is unused).
// Positions: the Transformer-XL relative term needs the T x T score matrix that linear attention
// avoids, so under relative configs pos_emb is accepted and not used; positions then come from
// the block's convolution module. No relative-position parameters are created.
//
// The recurrent (causal) form keeps per head a state S [d_k, d_k] and normalizer z [d_k],
// updated frame by frame; it equals the parallel form under a causal mask.
#pragma once
#include "attention_core.h"

namespace nn {

class LinearAttention : public AttentionBase {
 public:
  static constexpr float kEps = 1e-6f;

  // Running sums of the recurrent form.
  struct State {
    Tensor s;  // [B, H, d_k, d_k]  sum_j phi(k_j) v_j^T
    Tensor z;  // [B, H, 1, d_k]    sum_j phi(k_j)
  };

  explicit LinearAttention(const AttentionConfig& c);
  Tensor forward(const Tensor& x, const Tensor& mask, const Tensor& pos_emb) override;
  // Caches the state (s, z) of all past frames: every query of the chunk sees the chunk's
  // keys and all history. A finite history (cache.max_frames >= 0) cannot be taken back out
  // of the sums and is refused.
  // No positions, so no shared weights.
  Tensor forward_chunk(const Tensor& x, AttentionCache& cache,
                       const AttentionStreamWeights& shared) override;
  ChunkCost chunk_cost(int64_t T, int64_t S) const override;
  int64_t cache_floats_per_frame() const override { return 0; }
  int64_t cache_floats_fixed() const override {
    return config_.num_heads * (d_k_ * d_k_ + d_k_);
  }

  // The empty state for a batch of B.
  State initial_state(int64_t B) const;
  // Recurrent (causal) form: x [B, T, d_model] frames in order, continuing from `state`,
  // which is updated; padding mask [B, 1, T] (or undefined): padded frames add nothing to
  // the state. -> [B, T, d_model]
  Tensor forward_recurrent(const Tensor& x, State& state, const Tensor& mask = Tensor()) const;

  std::shared_ptr<Linear> linear_q, linear_k, linear_v, linear_out;  // d_model -> d_model

 private:
  // x [B, T, d] -> phi(q), phi(k) (padded keys zeroed) and v, each [B, H, T, d_k]
  struct Features {
    Tensor fq, fk, v;
  };
  Features features(const Tensor& x, const Tensor& padding) const;
};

}  // namespace nn
