// CUDA layer normalization over the last dim (one block per row for y and gx, one thread per
// feature for the weight and bias gradients) and batch normalization over N and L of
// [N, C, L] (one block per channel for statistics and gradients, one thread per element
// for y).
#include "../kernels/norm.h"
#include "check.h"
#include "launch.cuh"
#include "register.h"
#include "stream.h"

namespace ag::cuda {
namespace {

// x, y: [rows, D]; w, b: [D] or null; mean, rstd: [rows]. One block per row.
__global__ void layer_norm_kernel(const float* x, const float* w, const float* b, float* y,
                                  float* mean, float* rstd, int64_t D, float eps) {
  __shared__ float shared[32];
  const int64_t off = blockIdx.x * D;
  const float inv_d = 1.0f / static_cast<float>(D);
  float s = 0.0f;
  for (int64_t k = threadIdx.x; k < D; k += blockDim.x) s += x[off + k];
  const float mu = block_sum(s, shared) * inv_d;
  float v = 0.0f;
  for (int64_t k = threadIdx.x; k < D; k += blockDim.x) {
    const float d = x[off + k] - mu;
    v += d * d;
  }
  const float r = 1.0f / sqrtf(block_sum(v, shared) * inv_d + eps);
  for (int64_t k = threadIdx.x; k < D; k += blockDim.x) {
    float out = (x[off + k] - mu) * r;
    if (w) out *= w[k];
    if (b) out += b[k];
    y[off + k] = out;
  }
  if (threadIdx.x == 0) {
    mean[blockIdx.x] = mu;
    rstd[blockIdx.x] = r;
  }
}

void layer_norm(const float* x, const float* w, const float* b, float* y, float* mean,
                float* rstd, int64_t rows, int64_t D, float eps) {
  if (rows == 0) return;
  AG_CHECK(rows <= INT32_MAX, "layer_norm (cuda): ", rows, " rows is too many for one grid");
  layer_norm_kernel<<<static_cast<unsigned>(rows), row_threads(D), 0, stream()>>>(
      x, w, b, y, mean, rstd, D, eps);
  AG_CUDA_CHECK_LAUNCH("layer_norm_kernel");
}

// With g = gy * w and xhat = (x - mean) * rstd:
//   gx = rstd * (g - mean_k(g) - xhat * mean_k(g * xhat))
// x, gy, gx: [rows, D]; w: [D] or null. One block per row.
__global__ void layer_norm_gx_kernel(const float* x, const float* gy, const float* w,
                                     const float* mean, const float* rstd, float* gx,
                                     int64_t D) {
  __shared__ float shared[32];
  const int64_t off = blockIdx.x * D;
  const float mu = mean[blockIdx.x], rs = rstd[blockIdx.x];
  const float inv_d = 1.0f / static_cast<float>(D);
  float sg = 0.0f, sgx = 0.0f;
  for (int64_t k = threadIdx.x; k < D; k += blockDim.x) {
    const float g = w ? gy[off + k] * w[k] : gy[off + k];
    sg += g;
    sgx += g * (x[off + k] - mu) * rs;
  }
  const float mg = block_sum(sg, shared) * inv_d;
  const float mgx = block_sum(sgx, shared) * inv_d;
  for (int64_t k = threadIdx.x; k < D; k += blockDim.x) {
    const float g = w ? gy[off + k] * w[k] : gy[off + k];
    gx[off + k] = rs * (g - mg - (x[off + k] - mu) * rs * mgx);
  }
}

// gw[k] = sum_r gy * xhat, gb[k] = sum_r gy (either may be null). One thread per feature.
__global__ void layer_norm_params_kernel(const float* x, const float* gy, const float* mean,
                                         const float* rstd, float* gw, float* gb, int64_t rows,
                                         int64_t D) {
  AG_GRID_LOOP(k, D) {
    float sw = 0.0f, sb = 0.0f;
    for (int64_t r = 0; r < rows; ++r) {
      const float g = gy[r * D + k];
      sw += g * (x[r * D + k] - mean[r]) * rstd[r];
      sb += g;
    }
    if (gw) gw[k] = sw;
    if (gb) gb[k] = sb;
  }
}

void layer_norm_backward(const float* x, const float* gy, const float* w, const float* mean,
                         const float* rstd, float* gx, float* gw, float* gb, int64_t rows,
                         int64_t D) {
  cudaStream_t s = stream();
  if (gx && rows > 0) {
    AG_CHECK(rows <= INT32_MAX, "layer_norm_backward (cuda): ", rows,
             " rows is too many for one grid");
    layer_norm_gx_kernel<<<static_cast<unsigned>(rows), row_threads(D), 0, s>>>(
        x, gy, w, mean, rstd, gx, D);
    AG_CUDA_CHECK_LAUNCH("layer_norm_gx_kernel");
  }
  if ((gw || gb) && D > 0) {
    layer_norm_params_kernel<<<blocks_for(D), kThreads, 0, s>>>(x, gy, mean, rstd, gw, gb,
                                                                rows, D);
    AG_CUDA_CHECK_LAUNCH("layer_norm_params_kernel");
  }
}

// Element m of channel c in [N, C, L], m in [0, N * L).
__device__ inline int64_t channel_at(int64_t m, int64_t c, int64_t C, int64_t L) {
  return (m / L * C + c) * L + m % L;
}

// x: [N, C, L]; mean, invstd, running_mean, running_var (null when not kept): [C].
// One block per channel.
__global__ void batch_norm_stats_kernel(const float* x, float* mean, float* invstd,
                                        float* running_mean, float* running_var, int64_t C,
                                        int64_t M, int64_t L, float momentum, float eps) {
  __shared__ float shared[32];
  const int64_t c = blockIdx.x;
  float s = 0.0f;
  for (int64_t m = threadIdx.x; m < M; m += blockDim.x) s += x[channel_at(m, c, C, L)];
  const float mu = block_sum(s, shared) / static_cast<float>(M);
  float v = 0.0f;
  for (int64_t m = threadIdx.x; m < M; m += blockDim.x) {
    const float d = x[channel_at(m, c, C, L)] - mu;
    v += d * d;
  }
  const float var = block_sum(v, shared) / static_cast<float>(M);
  if (threadIdx.x != 0) return;
  mean[c] = mu;
  invstd[c] = 1.0f / sqrtf(var + eps);
  if (running_mean) running_mean[c] = (1 - momentum) * running_mean[c] + momentum * mu;
  if (running_var) {
    const float unbiased = M > 1 ? var * M / (M - 1) : var;
    running_var[c] = (1 - momentum) * running_var[c] + momentum * unbiased;
  }
}

void batch_norm_stats(const float* x, float* mean, float* invstd, float* running_mean,
                      float* running_var, int64_t N, int64_t C, int64_t L, float momentum,
                      float eps) {
  if (C == 0) return;
  AG_CHECK(C <= INT32_MAX, "batch_norm (cuda): ", C, " channels is too many for one grid");
  batch_norm_stats_kernel<<<static_cast<unsigned>(C), row_threads(N * L), 0, stream()>>>(
      x, mean, invstd, running_mean, running_var, C, N * L, L, momentum, eps);
  AG_CUDA_CHECK_LAUNCH("batch_norm_stats_kernel");
}

// y = (x - mean[c]) * invstd[c] * w[c] + b[c].        x, y: [N, C, L]; w, b: [C] or null
__global__ void batch_norm_kernel(const float* x, const float* mean, const float* invstd,
                                  const float* w, const float* b, float* y, int64_t total,
                                  int64_t C, int64_t L) {
  AG_GRID_LOOP(e, total) {
    const int64_t c = e / L % C;
    const float scale = invstd[c] * (w ? w[c] : 1.0f);
    y[e] = (x[e] - mean[c]) * scale + (b ? b[c] : 0.0f);
  }
}

void batch_norm(const float* x, const float* mean, const float* invstd, const float* w,
                const float* b, float* y, int64_t N, int64_t C, int64_t L) {
  const int64_t total = N * C * L;
  if (total == 0) return;
  batch_norm_kernel<<<blocks_for(total), kThreads, 0, stream()>>>(x, mean, invstd, w, b, y,
                                                                 total, C, L);
  AG_CUDA_CHECK_LAUNCH("batch_norm_kernel");
}

// Per channel (one block each), with xhat = (x - mean) * invstd: gb = sum gy,
// gw = sum gy * xhat, and gx (kernels::BatchNormInputGrad). Null outputs are skipped.
__global__ void batch_norm_backward_kernel(const float* x, const float* gy, const float* mean,
                                           const float* invstd, const float* w, float* gx,
                                           float* gw, float* gb, int64_t C, int64_t M,
                                           int64_t L, bool batch_stats) {
  __shared__ float shared[32];
  const int64_t c = blockIdx.x;
  const float mu = mean[c], is = invstd[c];
  float sum_g = 0.0f, sum_gxhat = 0.0f;
  if (gw || gb || (gx && batch_stats)) {  // the same for every thread of the block
    float sg = 0.0f, sgd = 0.0f;
    for (int64_t m = threadIdx.x; m < M; m += blockDim.x) {
      const int64_t e = channel_at(m, c, C, L);
      sg += gy[e];
      sgd += gy[e] * (x[e] - mu);
    }
    sum_g = block_sum(sg, shared);
    sum_gxhat = block_sum(sgd, shared) * is;
  }
  if (threadIdx.x == 0) {
    if (gb) gb[c] = sum_g;
    if (gw) gw[c] = sum_gxhat;
  }
  if (!gx) return;
  const kernels::BatchNormInputGrad grad(sum_g, sum_gxhat, M, mu, is, w ? w[c] : 1.0f,
                                         batch_stats);
  for (int64_t m = threadIdx.x; m < M; m += blockDim.x) {
    const int64_t e = channel_at(m, c, C, L);
    gx[e] = grad(gy[e], x[e]);
  }
}

void batch_norm_backward(const float* x, const float* gy, const float* mean,
                         const float* invstd, const float* w, float* gx, float* gw, float* gb,
                         int64_t N, int64_t C, int64_t L, bool batch_stats) {
  if (C == 0) return;
  AG_CHECK(C <= INT32_MAX, "batch_norm_backward (cuda): ", C,
           " channels is too many for one grid");
  batch_norm_backward_kernel<<<static_cast<unsigned>(C), row_threads(N * L), 0, stream()>>>(
      x, gy, mean, invstd, w, gx, gw, gb, C, N * L, L, batch_stats);
  AG_CUDA_CHECK_LAUNCH("batch_norm_backward_kernel");
}

}  // namespace

void register_norm_kernels() {
  kernels::layer_norm.set(Device::cuda, &layer_norm);
  kernels::layer_norm_backward.set(Device::cuda, &layer_norm_backward);
  kernels::batch_norm_stats.set(Device::cuda, &batch_norm_stats);
  kernels::batch_norm.set(Device::cuda, &batch_norm);
  kernels::batch_norm_backward.set(Device::cuda, &batch_norm_backward);
}

}  // namespace ag::cuda
