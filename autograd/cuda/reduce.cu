// CUDA reductions over the middle axis of [outer, n, inner]: one block per row when
// inner == 1 (contiguous rows), one thread per output column otherwise.
#include "../kernels/reduce.h"
#include "check.h"
#include "launch.cuh"
#include "register.h"
#include "stream.h"

namespace ag::cuda {
namespace {

// x [rows, n] -> y [rows]; one block per row.
__global__ void sum_rows_kernel(const float* x, float* y, int64_t n) {
  __shared__ float shared[32];
  const float* r = x + blockIdx.x * n;
  float s = 0.0f;
  for (int64_t k = threadIdx.x; k < n; k += blockDim.x) s += r[k];
  s = block_sum(s, shared);
  if (threadIdx.x == 0) y[blockIdx.x] = s;
}

// x [outer, n, inner] -> y [outer, inner]; one thread per output.
__global__ void sum_cols_kernel(const float* x, float* y, int64_t outer, int64_t n,
                                int64_t inner) {
  AG_GRID_LOOP(j, outer * inner) {
    const float* c = x + (j / inner) * n * inner + j % inner;
    float s = 0.0f;
    for (int64_t k = 0; k < n; ++k) s += c[k * inner];
    y[j] = s;
  }
}

void sum(const float* x, float* y, int64_t outer, int64_t n, int64_t inner) {
  if (outer * inner == 0) return;
  if (inner == 1 && outer <= INT32_MAX) {
    sum_rows_kernel<<<static_cast<unsigned>(outer), row_threads(n), 0, stream()>>>(x, y, n);
    AG_CUDA_CHECK_LAUNCH("sum_rows_kernel");
    return;
  }
  sum_cols_kernel<<<blocks_for(outer * inner), kThreads, 0, stream()>>>(x, y, outer, n, inner);
  AG_CUDA_CHECK_LAUNCH("sum_cols_kernel");
}

// x [outer, n, inner] -> y, idx [outer, inner]: the first maximum; a NaN wins, as on the CPU.
__global__ void max_kernel(const float* x, float* y, int64_t* idx, int64_t outer, int64_t n,
                           int64_t inner) {
  AG_GRID_LOOP(j, outer * inner) {
    const float* c = x + (j / inner) * n * inner + j % inner;
    float best = c[0];
    int64_t arg = 0;
    for (int64_t k = 1; k < n && best == best; ++k) {
      const float v = c[k * inner];
      if (v > best || v != v) {
        best = v;
        arg = k;
      }
    }
    y[j] = best;
    idx[j] = arg;
  }
}

void max(const float* x, float* y, int64_t* idx, int64_t outer, int64_t n, int64_t inner) {
  if (outer * inner == 0) return;
  max_kernel<<<blocks_for(outer * inner), kThreads, 0, stream()>>>(x, y, idx, outer, n, inner);
  AG_CUDA_CHECK_LAUNCH("max_kernel");
}

// gx[o, idx[j], i] = gy[j] for j = (o, i); gx is zeroed first.
__global__ void max_backward_kernel(const float* gy, const int64_t* idx, float* gx,
                                    int64_t outer, int64_t n, int64_t inner) {
  AG_GRID_LOOP(j, outer * inner) {
    const int64_t o = j / inner, i = j % inner;
    gx[(o * n + idx[j]) * inner + i] = gy[j];
  }
}

void max_backward(const float* gy, const int64_t* idx, float* gx, int64_t outer, int64_t n,
                  int64_t inner) {
  cudaStream_t s = stream();
  AG_CUDA_CHECK(cudaMemsetAsync(gx, 0, sizeof(float) * outer * n * inner, s));
  if (outer * inner == 0) return;
  max_backward_kernel<<<blocks_for(outer * inner), kThreads, 0, s>>>(gy, idx, gx, outer, n,
                                                                    inner);
  AG_CUDA_CHECK_LAUNCH("max_backward_kernel");
}

}  // namespace

void register_reduce_kernels() {
  kernels::sum.set(Device::cuda, &sum);
  kernels::max.set(Device::cuda, &max);
  kernels::max_backward.set(Device::cuda, &max_backward);
}

}  // namespace ag::cuda
