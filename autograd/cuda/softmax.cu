// CUDA softmax and log-softmax over the middle axis of [outer, n, inner], forward and fused
// backward: one block per row when inner == 1, one thread per column otherwise. As on the
// CPU, the max skips NaNs and exp(NaN) then poisons the row's sum, so such a row gives NaN.
#include "../kernels/softmax.h"
#include "check.h"
#include "launch.cuh"
#include "register.h"
#include "stream.h"

namespace ag::cuda {
namespace {

// x, y: [rows, n]; one block per row.
__global__ void softmax_rows_kernel(const float* x, float* y, int64_t n, bool log) {
  __shared__ float shared[32];
  const float* r = x + blockIdx.x * n;
  float* out = y + blockIdx.x * n;
  float m = -INFINITY;
  for (int64_t k = threadIdx.x; k < n; k += blockDim.x) m = fmaxf(m, r[k]);
  m = block_max(m, shared);
  float s = 0.0f;
  for (int64_t k = threadIdx.x; k < n; k += blockDim.x) s += expf(r[k] - m);
  s = block_sum(s, shared);
  if (log) {
    const float log_s = logf(s);
    for (int64_t k = threadIdx.x; k < n; k += blockDim.x) out[k] = (r[k] - m) - log_s;
  } else {
    const float inv = 1.0f / s;
    for (int64_t k = threadIdx.x; k < n; k += blockDim.x) out[k] = expf(r[k] - m) * inv;
  }
}

// x, y: [outer, n, inner]; one thread per (o, i) column.
__global__ void softmax_cols_kernel(const float* x, float* y, int64_t outer, int64_t n,
                                    int64_t inner, bool log) {
  AG_GRID_LOOP(j, outer * inner) {
    const int64_t base = (j / inner) * n * inner + j % inner;
    const float* c = x + base;
    float* out = y + base;
    float m = -INFINITY;
    for (int64_t k = 0; k < n; ++k) m = fmaxf(m, c[k * inner]);
    float s = 0.0f;
    for (int64_t k = 0; k < n; ++k) s += expf(c[k * inner] - m);
    if (log) {
      const float log_s = logf(s);
      for (int64_t k = 0; k < n; ++k) out[k * inner] = (c[k * inner] - m) - log_s;
    } else {
      const float inv = 1.0f / s;
      for (int64_t k = 0; k < n; ++k) out[k * inner] = expf(c[k * inner] - m) * inv;
    }
  }
}

void softmax(const float* x, float* y, int64_t outer, int64_t n, int64_t inner, bool log) {
  if (outer * n * inner == 0) return;
  if (inner == 1 && outer <= INT32_MAX) {
    softmax_rows_kernel<<<static_cast<unsigned>(outer), row_threads(n), 0, stream()>>>(x, y, n,
                                                                                      log);
    AG_CUDA_CHECK_LAUNCH("softmax_rows_kernel");
    return;
  }
  softmax_cols_kernel<<<blocks_for(outer * inner), kThreads, 0, stream()>>>(x, y, outer, n,
                                                                           inner, log);
  AG_CUDA_CHECK_LAUNCH("softmax_cols_kernel");
}

// x, y: [rows, n]; one block per row; keep: the rows' mask rows (kernels::mask_row).
__global__ void masked_softmax_rows_kernel(const float* x, const uint8_t* keep, float* y,
                                           int64_t n, int64_t heads, int64_t t,
                                           int64_t mask_t) {
  __shared__ float shared[32];
  const int64_t row = blockIdx.x;
  const float* r = x + row * n;
  const uint8_t* kr = keep + kernels::mask_row(row, heads, t, mask_t) * n;
  float* out = y + row * n;
  float m = -INFINITY, kept = 0.0f;
  for (int64_t k = threadIdx.x; k < n; k += blockDim.x)
    if (kr[k]) {
      m = fmaxf(m, r[k]);
      kept = 1.0f;
    }
  m = block_max(m, shared);
  kept = block_max(kept, shared);
  float s = 0.0f;
  for (int64_t k = threadIdx.x; k < n; k += blockDim.x) s += kr[k] ? expf(r[k] - m) : 0.0f;
  s = block_sum(s, shared);
  const float inv = kept > 0.0f ? 1.0f / s : 0.0f;
  for (int64_t k = threadIdx.x; k < n; k += blockDim.x)
    out[k] = kr[k] ? expf(r[k] - m) * inv : 0.0f;
}

void masked_softmax(const float* x, const uint8_t* keep, float* y, int64_t rows, int64_t n,
                    int64_t heads, int64_t t, int64_t mask_t) {
  if (rows * n == 0) return;
  AG_CHECK(rows <= INT32_MAX, "masked_softmax: ", rows, " rows exceed one CUDA grid");
  masked_softmax_rows_kernel<<<static_cast<unsigned>(rows), row_threads(n), 0, stream()>>>(
      x, keep, y, n, heads, t, mask_t);
  AG_CUDA_CHECK_LAUNCH("masked_softmax_rows_kernel");
}

// softmax:     gx = y * (gy - sum_k gy * y)
// log_softmax: gx = gy - exp(y) * sum_k gy
__device__ inline float softmax_grad(float y, float gy, float s, bool log) {
  return log ? gy - expf(y) * s : y * (gy - s);
}

// y, gy, gx: [rows, n]; one block per row.
__global__ void softmax_backward_rows_kernel(const float* y, const float* gy, float* gx,
                                             int64_t n, bool log) {
  __shared__ float shared[32];
  const int64_t off = blockIdx.x * n;
  float s = 0.0f;
  for (int64_t k = threadIdx.x; k < n; k += blockDim.x)
    s += log ? gy[off + k] : gy[off + k] * y[off + k];
  s = block_sum(s, shared);
  for (int64_t k = threadIdx.x; k < n; k += blockDim.x)
    gx[off + k] = softmax_grad(y[off + k], gy[off + k], s, log);
}

// y, gy, gx: [outer, n, inner]; one thread per (o, i) column.
__global__ void softmax_backward_cols_kernel(const float* y, const float* gy, float* gx,
                                             int64_t outer, int64_t n, int64_t inner,
                                             bool log) {
  AG_GRID_LOOP(j, outer * inner) {
    const int64_t base = (j / inner) * n * inner + j % inner;
    float s = 0.0f;
    for (int64_t k = 0; k < n; ++k) {
      const int64_t e = base + k * inner;
      s += log ? gy[e] : gy[e] * y[e];
    }
    for (int64_t k = 0; k < n; ++k) {
      const int64_t e = base + k * inner;
      gx[e] = softmax_grad(y[e], gy[e], s, log);
    }
  }
}

void softmax_backward(const float* y, const float* gy, float* gx, int64_t outer, int64_t n,
                      int64_t inner, bool log) {
  if (outer * n * inner == 0) return;
  if (inner == 1 && outer <= INT32_MAX) {
    softmax_backward_rows_kernel<<<static_cast<unsigned>(outer), row_threads(n), 0, stream()>>>(
        y, gy, gx, n, log);
    AG_CUDA_CHECK_LAUNCH("softmax_backward_rows_kernel");
    return;
  }
  softmax_backward_cols_kernel<<<blocks_for(outer * inner), kThreads, 0, stream()>>>(
      y, gy, gx, outer, n, inner, log);
  AG_CUDA_CHECK_LAUNCH("softmax_backward_cols_kernel");
}

}  // namespace

void register_softmax_kernels() {
  kernels::softmax.set(Device::cuda, &softmax);
  kernels::masked_softmax.set(Device::cuda, &masked_softmax);
  kernels::softmax_backward.set(Device::cuda, &softmax_backward);
}

}  // namespace ag::cuda
