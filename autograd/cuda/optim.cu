// CUDA optimizer updates (one fused pass per parameter) and the gradient-norm helpers.
#include <cmath>

#include "../kernels/optim.h"
#include "check.h"
#include "launch.cuh"
#include "register.h"
#include "scratch.h"
#include "stream.h"

namespace ag::cuda {
namespace {
using kernels::AdamParams;
using kernels::SgdParams;

// p, g, m, v: [n]. step = lr / bc1, inv_sqrt_bc2 = 1 / sqrt(bc2), decay (AdamW) or l2 (Adam).
__global__ void adam_kernel(float* p, const float* g, float* m, float* v, int64_t n,
                            AdamParams a, float step, float inv_sqrt_bc2, float decay,
                            float l2) {
  AG_GRID_LOOP(i, n) {
    const float gi = g[i] + l2 * p[i];
    m[i] = a.beta1 * m[i] + (1.0f - a.beta1) * gi;
    v[i] = a.beta2 * v[i] + (1.0f - a.beta2) * gi * gi;
    p[i] = p[i] * decay - step * m[i] / (sqrtf(v[i]) * inv_sqrt_bc2 + a.eps);
  }
}

void adam_step(float* p, const float* g, float* m, float* v, int64_t n, const AdamParams& a) {
  if (n == 0) return;
  const float step = a.lr / a.bias_correction1;
  const float inv_sqrt_bc2 = 1.0f / std::sqrt(a.bias_correction2);
  const float decay = a.decoupled ? 1.0f - a.lr * a.weight_decay : 1.0f;
  const float l2 = a.decoupled ? 0.0f : a.weight_decay;
  adam_kernel<<<blocks_for(n), kThreads, 0, stream()>>>(p, g, m, v, n, a, step, inv_sqrt_bc2,
                                                       decay, l2);
  AG_CUDA_CHECK_LAUNCH("adam_kernel");
}

// p, g, buf (null without momentum): [n]
__global__ void sgd_kernel(float* p, const float* g, float* buf, int64_t n, SgdParams s) {
  AG_GRID_LOOP(i, n) {
    float gi = g[i] + s.weight_decay * p[i];
    if (s.momentum != 0.0f) {
      buf[i] = s.momentum * buf[i] + gi;  // starts at 0: the first step keeps g
      gi = s.nesterov ? gi + s.momentum * buf[i] : buf[i];
    }
    p[i] -= s.lr * gi;
  }
}

void sgd_step(float* p, const float* g, float* buf, int64_t n, const SgdParams& s) {
  if (n == 0) return;
  sgd_kernel<<<blocks_for(n), kThreads, 0, stream()>>>(p, g, buf, n, s);
  AG_CUDA_CHECK_LAUNCH("sgd_kernel");
}

// *total += sum x^2 in double: per-thread sums, a warp reduction, one atomicAdd per warp.
__global__ void sum_squares_kernel(const float* x, int64_t n, double* total) {
  double s = 0;
  AG_GRID_LOOP(i, n) s += static_cast<double>(x[i]) * x[i];
  for (int o = 16; o > 0; o >>= 1) s += __shfl_xor_sync(0xffffffffu, s, o);
  if ((threadIdx.x & 31) == 0) atomicAdd(total, s);
}

// Synchronous: the caller needs the sum on the host.
double sum_squares(const float* x, int64_t n) {
  if (n == 0) return 0.0;
  Scratch total(sizeof(double));
  cudaStream_t s = stream();
  double result = 0;
  AG_CUDA_CHECK(cudaMemsetAsync(total.as<double>(), 0, sizeof(double), s));
  sum_squares_kernel<<<blocks_for(n), kThreads, 0, s>>>(x, n, total.as<double>());
  AG_CUDA_CHECK_LAUNCH("sum_squares_kernel");
  AG_CUDA_CHECK(cudaMemcpyAsync(&result, total.as<double>(), sizeof(double),
                                cudaMemcpyDeviceToHost, s));
  AG_CUDA_CHECK(cudaStreamSynchronize(s));
  return result;
}

__global__ void scale_kernel(float* x, int64_t n, float s) {
  AG_GRID_LOOP(i, n) x[i] *= s;
}

void scale(float* x, int64_t n, float s) {
  if (n == 0) return;
  scale_kernel<<<blocks_for(n), kThreads, 0, stream()>>>(x, n, s);
  AG_CUDA_CHECK_LAUNCH("scale_kernel");
}

}  // namespace

void register_optim_kernels() {
  kernels::adam_step.set(Device::cuda, &adam_step);
  kernels::sgd_step.set(Device::cuda, &sgd_step);
  kernels::sum_squares.set(Device::cuda, &sum_squares);
  kernels::scale.set(Device::cuda, &scale);
}

}  // namespace ag::cuda
