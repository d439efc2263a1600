// Conformer block (ESPnet EncoderLayer: macaron feed-forwards, pre-norm, conv module):
//   x += 0.5 * dropout(feed_forward_macaron(norm_ff_macaron(x)))
//   x += dropout(self_attn(norm_mha(x), mask, pos_emb))
//   x += dropout(conv_module(norm_conv(x)))
//   x += 0.5 * dropout(feed_forward(norm_ff(x)))
//   x = norm_final(x)
// LayerNorms use ESPnet's eps 1e-12.
#pragma once
#include <functional>
#include <memory>

#include "convolution_module.h"
#include "encoder_block.h"
#include "encoder_config.h"
#include "feed_forward.h"

namespace nn {

class ConformerBlock : public EncoderBlock {
 public:
  // Sizes from c (d_model, ffn_dim, conv_kernel, dropout, causal); attention built by the
  // caller for d_model.
  ConformerBlock(const EncoderConfig& c, std::shared_ptr<Attention> attention);
  Tensor forward(const Tensor& x, const Tensor& att_mask, const Tensor& pad_mask,
                 const Tensor& pos_emb) override;
  Tensor forward_chunk(const Tensor& x, BlockCache& cache,
                       const AttentionStreamWeights& shared) override;
  const Attention& attention() const override { return *self_attn; }

  std::shared_ptr<Attention> self_attn;
  std::shared_ptr<FeedForward> feed_forward, feed_forward_macaron;
  std::shared_ptr<ConvolutionModule> conv_module;
  std::shared_ptr<LayerNorm> norm_ff, norm_mha, norm_ff_macaron, norm_conv, norm_final;
  float dropout;

 private:
  using Sublayer = std::function<Tensor(const Tensor&)>;  // [B, T, d] -> [B, T, d]
  // The block around its attention and convolution sublayers (full pass or chunk).
  Tensor run(const Tensor& x, const Sublayer& attend, const Sublayer& convolve);
};

}  // namespace nn
