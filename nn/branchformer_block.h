// Branchformer block (ESPnet BranchformerEncoderLayer, both branches, no stochastic depth):
//   x1 = dropout(attn(norm_mha(x), mask, pos_emb))      global branch
//   x2 = dropout(cgmlp(norm_mlp(x)))                     local branch
//   concat:      x += dropout(merge_proj([x1, x2]))       merge_proj: 2d -> d
//   learned_ave: x += dropout(merge_proj(w1 * x1 + w2 * x2)), merge_proj: d -> d, where
//     per utterance and branch k, pooled_k = softmax_t(pooling_projk(x_k) / sqrt(d)) @ x_k
//     over real frames, and (w1, w2) = softmax(weight_proj1(pooled_1), weight_proj2(pooled_2))
//   x = norm_final(x)
// LayerNorms use ESPnet's eps 1e-12.
#pragma once
#include <memory>

#include "cgmlp.h"
#include "encoder_block.h"
#include "encoder_config.h"

namespace nn {

class BranchformerBlock : public EncoderBlock {
 public:
  // Sizes from c (d_model, cgmlp_dim, conv_kernel, merge, dropout, causal); attention built
  // by the caller for d_model.
  BranchformerBlock(const EncoderConfig& c, std::shared_ptr<Attention> attention);
  Tensor forward(const Tensor& x, const Tensor& att_mask, const Tensor& pad_mask,
                 const Tensor& pos_emb) override;
  // Streaming needs merge concat (learned_ave pools over whole utterances).
  Tensor forward_chunk(const Tensor& x, BlockCache& cache,
                       const AttentionStreamWeights& shared) override;
  const Attention& attention() const override { return *attn; }

  std::shared_ptr<Attention> attn;
  std::shared_ptr<ConvolutionalGatingMLP> cgmlp;
  std::shared_ptr<LayerNorm> norm_mha, norm_mlp, norm_final;
  std::shared_ptr<Linear> pooling_proj1, pooling_proj2, weight_proj1, weight_proj2;  // learned_ave: d -> 1
  std::shared_ptr<Linear> merge_proj;
  bool learned_ave;
  float dropout;

 private:
  // learned_ave: the branch weights [B, 1, 1] each.
  std::pair<Tensor, Tensor> merge_weights(const Tensor& x1, const Tensor& x2, const Tensor& pad_mask) const;
};

}  // namespace nn
