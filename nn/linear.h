// Linear: y = act(x W^T + b), W [out, in] as PyTorch stores it; the activation (none by
// default) is fused into the op (ag::linear).
#pragma once
#include "autograd/ops/matmul.h"
#include "module.h"

namespace nn {

class Linear : public Module {
 public:
  Linear(int64_t in, int64_t out, bool bias = true);
  // x [..., in] -> [..., out]
  Tensor forward(const Tensor& x, ag::Activation act = ag::Activation::none) const;

  Tensor weight;  // [out, in]
  Tensor bias;    // [out] or undefined
};

}  // namespace nn
