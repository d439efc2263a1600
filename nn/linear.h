// Linear: y = x W^T + b, W [out, in] as PyTorch stores it.
#pragma once
#include "module.h"

namespace nn {

class Linear : public Module {
 public:
  Linear(int64_t in, int64_t out, bool bias = true);
  // x [..., in] -> [..., out]
  Tensor forward(const Tensor& x) const;

  Tensor weight;  // [out, in]
  Tensor bias;    // [out] or undefined
};

}  // namespace nn
