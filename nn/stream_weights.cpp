#include "stream_weights.h"

namespace nn {

int64_t AttentionStreamWeights::bytes() const {
  int64_t floats = 0;
  for (const Tensor* t : {&pos, &absorbed.uk, &absorbed.out, &absorbed.bias_rows,
                          &absorbed.uv_t, &absorbed.out_bias})
    if (t->defined()) floats += t->numel();
  return floats * static_cast<int64_t>(sizeof(float));
}

}  // namespace nn
