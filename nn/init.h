// Parameter initialization as PyTorch's defaults.
#pragma once
#include "autograd/random.h"

namespace nn::init {

// PyTorch's Linear/Conv default, kaiming_uniform_(a=sqrt(5)): U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
// The same bound serves their biases.
inline ag::Tensor fan_in_uniform(const ag::Shape& shape, int64_t fan_in) {
  float bound = fan_in > 0 ? 1.0f / std::sqrt(static_cast<float>(fan_in)) : 0.0f;
  return ag::uniform(shape, -bound, bound);
}

// Xavier/Glorot uniform: U(-a, a), a = sqrt(6 / (fan_in + fan_out)).
inline ag::Tensor xavier_uniform(const ag::Shape& shape, int64_t fan_in, int64_t fan_out) {
  float a = std::sqrt(6.0f / static_cast<float>(fan_in + fan_out));
  return ag::uniform(shape, -a, a);
}

}  // namespace nn::init
