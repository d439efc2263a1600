// Inverted dropout: during training each element is zeroed with probability p and the
// kept ones are scaled by 1 / (1 - p), so the expected value is unchanged.
#pragma once
#include "../random.h"
#include "../tensor.h"

namespace ag {

// x [...] -> same shape. Identity (x itself) when !training or p == 0; zeros when p == 1.
// The mask comes from one 64-bit draw of `gen`: the same generator state gives the same
// mask, and the backward multiplies the gradient by that mask.
Tensor dropout(const Tensor& x, float p, bool training, Generator& gen = default_generator());

}  // namespace ag
