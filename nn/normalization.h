// LayerNorm over the last dim and BatchNorm1d over channels (dim 1), as PyTorch.
#pragma once
#include <memory>
#include "module.h"

namespace nn {

class LayerNorm : public Module {
 public:
  explicit LayerNorm(int64_t dim, float eps = 1e-5f);
  // x [..., dim] -> same shape
  Tensor forward(const Tensor& x) const;

  Tensor weight, bias;  // [dim], ones and zeros at start
  float eps;
};

// ESPnet's LayerNorm: eps 1e-12 (its encoders' and blocks' norms), so that a state dict and
// its outputs carry over one-to-one.
inline constexpr float kEspnetLayerNormEps = 1e-12f;
inline std::shared_ptr<LayerNorm> espnet_layer_norm(int64_t dim) {
  return std::make_shared<LayerNorm>(dim, kEspnetLayerNormEps);
}

class BatchNorm1d : public Module {
 public:
  explicit BatchNorm1d(int64_t channels, float eps = 1e-5f, float momentum = 0.1f);
  // x [N, C] or [N, C, L]; batch statistics in training (updating the running ones),
  // running statistics in eval.
  Tensor forward(const Tensor& x) const;

  Tensor weight, bias;                 // [C]
  Tensor running_mean, running_var;    // [C] buffers
  Tensor num_batches_tracked;          // [] int64 buffer, as PyTorch's state_dict
  float eps, momentum;
};

}  // namespace nn
