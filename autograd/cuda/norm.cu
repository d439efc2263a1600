// CUDA layer normalization over the last dim, forward and backward: one block per row for
// y and gx, one thread per feature for the weight and bias gradients.
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

}  // namespace

void register_norm_kernels() {
  kernels::layer_norm.set(Device::cuda, &layer_norm);
  kernels::layer_norm_backward.set(Device::cuda, &layer_norm_backward);
}

}  // namespace ag::cuda
