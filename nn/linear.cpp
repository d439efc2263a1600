#include "linear.h"

#include "autograd/ops.h"
#include "init.h"

namespace nn {

Linear::Linear(int64_t in, int64_t out, bool with_bias) {
  AG_CHECK(in > 0 && out > 0, "Linear: sizes must be positive, got in ", in, ", out ", out);
  weight = register_parameter("weight", init::fan_in_uniform({out, in}, in));
  if (with_bias) bias = register_parameter("bias", init::fan_in_uniform({out}, in));
}

Tensor Linear::forward(const Tensor& x, ag::Activation act) const {
  return ag::linear(x, weight, bias, act);
}

}  // namespace nn
