// Layer and batch normalization, forward and fused backward. Optional pointers (weight,
// bias, running statistics, gradients not needed) may be null.
#pragma once
#include <cstdint>

#include "../dispatch.h"
#include "host_device.h"

namespace ag::kernels {

// Over the last dim of x [rows, D]: y = (x - mean) * rstd * weight + bias with the biased
// variance, rstd = 1 / sqrt(var + eps). mean, rstd [rows] are saved for the backward.
using LayerNormFn = void(const float* x, const float* weight, const float* bias, float* y,
                         float* mean, float* rstd, int64_t rows, int64_t D, float eps);
// gx [rows, D], gweight, gbias [D] from gy [rows, D] and the saved mean, rstd.
using LayerNormBackwardFn = void(const float* x, const float* gy, const float* weight,
                                 const float* mean, const float* rstd, float* gx,
                                 float* gweight, float* gbias, int64_t rows, int64_t D);

// Per channel c of x [N, C, L]: mean and invstd = 1 / sqrt(var + eps) over N and L, var
// biased. running_mean and running_var [C] (unbiased variance), when given, are updated
// in place: running = (1 - momentum) * running + momentum * batch.
using BatchNormStatsFn = void(const float* x, float* mean, float* invstd, float* running_mean,
                              float* running_var, int64_t N, int64_t C, int64_t L,
                              float momentum, float eps);
// y = (x - mean[c]) * invstd[c] * weight[c] + bias[c].         x, y: [N, C, L]; others [C]
using BatchNormFn = void(const float* x, const float* mean, const float* invstd,
                         const float* weight, const float* bias, float* y, int64_t N,
                         int64_t C, int64_t L);
// gx [N, C, L], gweight, gbias [C] from gy [N, C, L]. With `batch_stats` mean and invstd
// were computed from x (training), so gx also flows through them; otherwise they were
// constants (eval) and gx = gy * weight * invstd.
using BatchNormBackwardFn = void(const float* x, const float* gy, const float* mean,
                                 const float* invstd, const float* weight, float* gx,
                                 float* gweight, float* gbias, int64_t N, int64_t C,
                                 int64_t L, bool batch_stats);

extern KernelTable<LayerNormFn> layer_norm;
extern KernelTable<LayerNormBackwardFn> layer_norm_backward;
extern KernelTable<BatchNormStatsFn> batch_norm_stats;
extern KernelTable<BatchNormFn> batch_norm;
extern KernelTable<BatchNormBackwardFn> batch_norm_backward;

// The batch norm's input gradient for one channel, from the channel's sums over its M
// elements, sum_g = sum gy and sum_gxhat = sum gy * xhat: in training (batch statistics)
// gx = a (gy - mean(gy) - xhat mean(gy xhat)), in eval gx = a gy, a = invstd * weight.
struct BatchNormInputGrad {
  float a, mg, k, mu;
  bool batch_stats;

  AG_HOST_DEVICE BatchNormInputGrad(float sum_g, float sum_gxhat, int64_t M, float mu,
                                    float invstd, float weight, bool batch_stats)
      : a(invstd * weight),
        mg(batch_stats ? sum_g / M : 0.0f),
        k(batch_stats ? sum_gxhat / M * invstd : 0.0f),
        mu(mu),
        batch_stats(batch_stats) {}
  AG_HOST_DEVICE float operator()(float gy, float x) const {
    return batch_stats ? a * (gy - mg - (x - mu) * k) : a * gy;
  }
};

}  // namespace ag::kernels
