#include "cgmlp.h"

#include "autograd/ops.h"

namespace nn {

ConvolutionalSpatialGatingUnit::ConvolutionalSpatialGatingUnit(int64_t channels, int64_t kernel,
                                                               bool causal) {
  AG_CHECK(causal || kernel % 2 == 1, "ConvolutionalSpatialGatingUnit: kernel ", kernel,
           " must be odd for centred ('same') padding");
  norm = register_module("norm", espnet_layer_norm(channels));
  Conv1dOptions depthwise{causal ? 0 : (kernel - 1) / 2, channels, causal};
  conv = register_module("conv", std::make_shared<Conv1d>(channels, channels, kernel, depthwise));
  ag::NoGradGuard no_grad;
  ag::copy_(conv->weight, ag::normal(conv->weight.shape(), 0.0f, 1e-6f));
  ag::fill(conv->bias, 1.0f);
}

Tensor ConvolutionalSpatialGatingUnit::forward(const Tensor& x_g, const Tensor& pad_mask) const {
  Tensor h = norm->forward(x_g);  // [B, T, C]
  if (pad_mask.defined()) h = ag::masked_fill(h, pad_mask, 0.0f);
  return ag::transpose(conv->forward(ag::transpose(h, 1, 2)), 1, 2);  // [B, T, C]
}

ConvolutionalGatingMLP::ConvolutionalGatingMLP(int64_t d_model, int64_t units, int64_t kernel,
                                               float dropout, bool causal)
    : dropout(dropout) {
  AG_CHECK(units > 0 && units % 2 == 0, "ConvolutionalGatingMLP: units ", units,
           " must be positive and even (it is split in halves)");
  channel_proj1 = register_module("channel_proj1", std::make_shared<ModuleList<Linear>>());
  channel_proj1->push_back(std::make_shared<Linear>(d_model, units));
  csgu = register_module("csgu", std::make_shared<ConvolutionalSpatialGatingUnit>(units / 2, kernel, causal));
  channel_proj2 = register_module("channel_proj2", std::make_shared<Linear>(units / 2, d_model));
}

Tensor ConvolutionalSpatialGatingUnit::forward_chunk(const Tensor& x_g, Tensor& cache) const {
  Tensor h = ag::transpose(norm->forward(x_g), 1, 2);                  // [B, C, T]
  return ag::transpose(conv->forward_chunk(h, cache), 1, 2);           // [B, T, C]
}

Tensor ConvolutionalGatingMLP::forward(const Tensor& x, const Tensor& pad_mask) const {
  return gated(x, [&](const Tensor& x_g) { return csgu->forward(x_g, pad_mask); });
}

Tensor ConvolutionalGatingMLP::forward_chunk(const Tensor& x, Tensor& cache) const {
  return gated(x, [&](const Tensor& x_g) { return csgu->forward_chunk(x_g, cache); });
}

Tensor ConvolutionalGatingMLP::gated(const Tensor& x,
                                     const std::function<Tensor(const Tensor&)>& gate) const {
  // The halves come from halves of the weight (a copy of [units/2, d] each) rather than
  // from splitting the [B, T, units] activation.
  const Linear& proj = (*channel_proj1)[0];
  const int64_t half = proj.weight.size(0) / 2;
  auto half_proj = [&](int64_t start) {
    return ag::linear(x, ag::narrow(proj.weight, 0, start, half),
                      ag::narrow(proj.bias, 0, start, half), ag::Activation::gelu);  // [B, T, units/2]
  };
  Tensor x_r = half_proj(0), x_g = half_proj(half);
  Tensor y = ag::dropout(x_r * gate(x_g), dropout, is_training());
  return channel_proj2->forward(y);  // [B, T, d]
}

}  // namespace nn
