// Convolutional gating MLP (ESPnet ConvolutionalGatingMLP, Branchformer's local branch),
// with ESPnet's defaults (no linear after the conv, identity gate activation):
//   channel_proj1 (d -> units) + GELU; split into halves x_r, x_g [.., units/2];
//   CSGU: x_g = csgu.conv(csgu.norm(x_g)) (depthwise over time); y = dropout(x_r * x_g);
//   channel_proj2 (units/2 -> d).
#pragma once
#include <functional>
#include <memory>

#include "conv.h"
#include "linear.h"
#include "normalization.h"

namespace nn {

// The convolutional spatial gating unit's parameters (`csgu.norm`, `csgu.conv`).
class ConvolutionalSpatialGatingUnit : public Module {
 public:
  // ESPnet's espnet_initialization_fn: conv weight ~ N(0, 1e-6^2), bias 1, so the gate
  // starts near 1 and the block near a plain MLP.
  ConvolutionalSpatialGatingUnit(int64_t channels, int64_t kernel, bool causal);
  // x_g [B, T, channels]; pad_mask [B, T, 1] (1 at padded frames, zeroed before the conv;
  // undefined: none) -> gate [B, T, channels]
  Tensor forward(const Tensor& x_g, const Tensor& pad_mask) const;
  // Streaming: x_g [B, T, channels]; cache [B, channels, context] the conv's left context
  // (Conv1d::forward_chunk) -> gate [B, T, channels]
  Tensor forward_chunk(const Tensor& x_g, Tensor& cache) const;

  std::shared_ptr<LayerNorm> norm;  // channels, eps 1e-12 (ESPnet LayerNorm)
  std::shared_ptr<Conv1d> conv;     // [channels, 1, K], groups channels
};

class ConvolutionalGatingMLP : public Module {
 public:
  // units even; kernel odd unless causal.
  ConvolutionalGatingMLP(int64_t d_model, int64_t units, int64_t kernel, float dropout, bool causal);
  // x [B, T, d]; pad_mask as the CSGU's -> [B, T, d]
  Tensor forward(const Tensor& x, const Tensor& pad_mask) const;
  // Streaming: x [B, T, d]; cache as the CSGU's -> [B, T, d]
  Tensor forward_chunk(const Tensor& x, Tensor& cache) const;

  // PyTorch's Sequential(Linear, GELU): the linear is `channel_proj1.0`.
  std::shared_ptr<ModuleList<Linear>> channel_proj1;  // d -> units
  std::shared_ptr<ConvolutionalSpatialGatingUnit> csgu;
  std::shared_ptr<Linear> channel_proj2;  // units/2 -> d
  float dropout;

 private:
  // The MLP around the gate: x [B, T, d] -> [B, T, d], gate(x_g [B, T, units/2]) the CSGU's.
  Tensor gated(const Tensor& x, const std::function<Tensor(const Tensor&)>& gate) const;
};

}  // namespace nn
