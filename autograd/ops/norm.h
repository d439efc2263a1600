// Normalization layers as fused ops (one kernel forward, one backward).
#pragma once
#include "../tensor.h"

namespace ag {

// Normalizes over the last dim: y = (x - mean) / sqrt(var + eps) * weight + bias, var biased.
// x [..., D], weight [D], bias [D] -> [..., D]. weight and/or bias may be undefined (no
// affine part).
Tensor layer_norm(const Tensor& x, const Tensor& weight, const Tensor& bias, float eps = 1e-5f);

// Per channel (dim 1, as PyTorch): y = (x - mean[c]) / sqrt(var[c] + eps) * weight[c] + bias[c].
// x [N, C] or [N, C, L]; weight, bias, running_mean, running_var [C] -> shape of x.
// training: mean and var (biased) over N and L of this batch; running_mean and running_var
//   (buffers, never differentiated) are updated in place when defined, with the UNBIASED
//   variance: running = (1 - momentum) * running + momentum * batch. Needs N * L > 1.
// eval: normalizes with running_mean and running_var, which are required.
// weight and/or bias may be undefined (no affine part).
Tensor batch_norm(const Tensor& x, const Tensor& weight, const Tensor& bias,
                  const Tensor& running_mean, const Tensor& running_var, bool training,
                  float momentum = 0.1f, float eps = 1e-5f);

}  // namespace ag
