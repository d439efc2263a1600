// Simple latent attention: keys and values are up-projected from one shared latent
// c = x W_dkv^T [B, T, latent_dim], which is all a streaming cache has to hold.
// Parameters: linear_q (d -> d), linear_dkv (d -> latent_dim, no bias), linear_uk and
// linear_uv (latent_dim -> d), linear_out, plus the relative-position ones when relative.
#pragma once
#include "attention_core.h"

namespace nn {

class SimpleLatentAttention : public AttentionBase {
 public:
  explicit SimpleLatentAttention(const AttentionConfig& c);
  Tensor forward(const Tensor& x, const Tensor& mask, const Tensor& pos_emb) override;
  // Caches the latent c [B, S, latent_dim] only and attends in mla's absorbed form (mla.h).
  Tensor forward_chunk(const Tensor& x, AttentionCache& cache, const Tensor& pos_emb) override;
  int64_t cache_floats_per_frame() const override { return config_.latent_dim; }

  std::shared_ptr<Linear> linear_q, linear_dkv, linear_uk, linear_uv, linear_out;
};

}  // namespace nn
