#include "conformer_block.h"

#include "autograd/ops.h"

namespace nn {
ConformerBlock::ConformerBlock(const EncoderConfig& c, std::shared_ptr<Attention> attention)
    : dropout(c.dropout) {
  AG_CHECK(attention != nullptr, "ConformerBlock: no attention module");
  const int64_t d = c.d_model;
  // ESPnet's registration order, so the state dicts list names alike.
  self_attn = register_module("self_attn", std::move(attention));
  feed_forward = register_module("feed_forward", std::make_shared<FeedForward>(d, c.ffn_dim, c.dropout));
  feed_forward_macaron =
      register_module("feed_forward_macaron", std::make_shared<FeedForward>(d, c.ffn_dim, c.dropout));
  conv_module = register_module("conv_module", std::make_shared<ConvolutionModule>(d, c.conv_kernel, c.causal, c.conv_norm));
  norm_ff = register_module("norm_ff", espnet_layer_norm(d));
  norm_mha = register_module("norm_mha", espnet_layer_norm(d));
  norm_ff_macaron = register_module("norm_ff_macaron", espnet_layer_norm(d));
  norm_conv = register_module("norm_conv", espnet_layer_norm(d));
  norm_final = register_module("norm_final", espnet_layer_norm(d));
}

Tensor ConformerBlock::forward(const Tensor& x, const Tensor& att_mask, const Tensor& pad_mask,
                               const Tensor& pos_emb) {
  return run(x, [&](const Tensor& h) { return self_attn->forward(h, att_mask, pos_emb); },
             [&](const Tensor& h) { return conv_module->forward(h, pad_mask); });
}

Tensor ConformerBlock::forward_chunk(const Tensor& x, BlockCache& cache,
                                     const AttentionStreamWeights& shared) {
  return run(x,
             [&](const Tensor& h) { return self_attn->forward_chunk(h, cache.attention, shared); },
             [&](const Tensor& h) { return conv_module->forward_chunk(h, cache.conv); });
}

Tensor ConformerBlock::run(const Tensor& x_in, const Sublayer& attend, const Sublayer& convolve) {
  const bool train = is_training();
  auto residual = [&](const Tensor& x, const Tensor& y, float scale) {
    Tensor r = ag::dropout(y, dropout, train);  // [B, T, d]
    return x + (scale == 1.0f ? r : r * scale);
  };
  Tensor x = residual(x_in, feed_forward_macaron->forward(norm_ff_macaron->forward(x_in)), 0.5f);
  x = residual(x, attend(norm_mha->forward(x)), 1.0f);
  x = residual(x, convolve(norm_conv->forward(x)), 1.0f);
  x = residual(x, feed_forward->forward(norm_ff->forward(x)), 0.5f);
  return norm_final->forward(x);  // [B, T, d]
}

}  // namespace nn
