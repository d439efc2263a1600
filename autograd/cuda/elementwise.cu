// CUDA element-wise kernels: fill, binary ops over a broadcast plan, unary ops and their
// fused backward. The op is a runtime switch (uniform across a warp), one kernel per kind.
#include "../kernels/copy.h"
#include "../kernels/elementwise.h"
#include "check.h"
#include "launch.cuh"
#include "register.h"
#include "stream.h"

namespace ag::cuda {
namespace {
using kernels::BinaryOp;
using kernels::BroadcastPlan;
using kernels::UnaryOp;

constexpr float kInvSqrt2 = 0.70710678118654752f;
constexpr float kInvSqrt2Pi = 0.39894228040143268f;

__global__ void fill_kernel(float* x, int64_t n, float value) {
  AG_GRID_LOOP(i, n) x[i] = value;
}

void fill(float* x, int64_t n, float value) {
  if (n == 0) return;
  fill_kernel<<<blocks_for(n), kThreads, 0, stream()>>>(x, n, value);
  AG_CUDA_CHECK_LAUNCH("fill_kernel");
}

// Element offsets of output index i in a and b.
__device__ inline void plan_offsets(const BroadcastPlan& p, int64_t i, int64_t& oa,
                                    int64_t& ob) {
  oa = ob = 0;
  for (int d = p.ndim - 1; d >= 0; --d) {
    const int64_t k = i % p.shape[d];
    i /= p.shape[d];
    oa += k * p.stride_a[d];
    ob += k * p.stride_b[d];
  }
}

__device__ inline float apply_binary(BinaryOp op, float a, float b) {
  switch (op) {
    case BinaryOp::add: return a + b;
    case BinaryOp::sub: return a - b;
    case BinaryOp::mul: return a * b;
    case BinaryOp::div: return a / b;
    case BinaryOp::pow: return powf(a, b);
  }
  return 0.0f;
}

// out [plan.numel]; a, b read through the plan's strides.
__global__ void binary_kernel(BinaryOp op, const float* a, const float* b, float* out,
                              BroadcastPlan p) {
  AG_GRID_LOOP(i, p.numel) {
    int64_t oa, ob;
    plan_offsets(p, i, oa, ob);
    out[i] = apply_binary(op, a[oa], b[ob]);
  }
}

void binary(BinaryOp op, const float* a, const float* b, float* out, const BroadcastPlan& p) {
  if (p.numel == 0) return;
  binary_kernel<<<blocks_for(p.numel), kThreads, 0, stream()>>>(op, a, b, out, p);
  AG_CUDA_CHECK_LAUNCH("binary_kernel");
}

// out [plan.numel] = a read through stride_a.
__global__ void broadcast_kernel(const float* a, float* out, BroadcastPlan p) {
  AG_GRID_LOOP(i, p.numel) {
    int64_t oa, ob;
    plan_offsets(p, i, oa, ob);
    out[i] = a[oa];
  }
}

void broadcast(const float* a, float* out, const BroadcastPlan& p) {
  if (p.numel == 0) return;
  broadcast_kernel<<<blocks_for(p.numel), kThreads, 0, stream()>>>(a, out, p);
  AG_CUDA_CHECK_LAUNCH("broadcast_kernel");
}

__device__ inline float sigmoid(float v) { return 1.0f / (1.0f + expf(-v)); }

__device__ inline float apply_unary(UnaryOp op, float v, float p0, float p1) {
  switch (op) {
    case UnaryOp::neg: return -v;
    case UnaryOp::exp: return expf(v);
    case UnaryOp::log: return logf(v);
    case UnaryOp::sqrt: return sqrtf(v);
    case UnaryOp::rsqrt: return 1.0f / sqrtf(v);
    case UnaryOp::abs: return fabsf(v);
    case UnaryOp::relu: return v > 0 ? v : 0.0f;
    case UnaryOp::gelu: return 0.5f * v * (1.0f + erff(v * kInvSqrt2));
    case UnaryOp::silu: return v * sigmoid(v);
    case UnaryOp::sigmoid: return sigmoid(v);
    case UnaryOp::tanh: return tanhf(v);
    case UnaryOp::elu: return v > 0 ? v : p0 * expm1f(v);
    case UnaryOp::clamp: return v < p0 ? p0 : (v > p1 ? p1 : v);
    case UnaryOp::pow: return p0 == 2.0f ? v * v : powf(v, p0);
    case UnaryOp::add: return v + p0;
    case UnaryOp::mul: return v * p0;
  }
  return 0.0f;
}

// dL/dx from x (input), y (output) and g = dL/dy; x or y is 0 when the op does not read it.
__device__ inline float unary_grad(UnaryOp op, float x, float y, float g, float p0, float p1) {
  switch (op) {
    case UnaryOp::neg: return -g;
    case UnaryOp::exp: return g * y;
    case UnaryOp::log: return g / x;
    case UnaryOp::sqrt: return 0.5f * g / y;
    case UnaryOp::rsqrt: return -0.5f * g * y * y * y;
    case UnaryOp::abs: return x > 0 ? g : (x < 0 ? -g : 0.0f);
    case UnaryOp::relu: return y > 0 ? g : 0.0f;
    case UnaryOp::gelu: {
      const float cdf = 0.5f * (1.0f + erff(x * kInvSqrt2));
      const float pdf = kInvSqrt2Pi * expf(-0.5f * x * x);
      return g * (cdf + x * pdf);
    }
    case UnaryOp::silu: {
      const float s = sigmoid(x);
      return g * s * (1.0f + x * (1.0f - s));
    }
    case UnaryOp::sigmoid: return g * y * (1.0f - y);
    case UnaryOp::tanh: return g * (1.0f - y * y);
    case UnaryOp::elu: return y > 0 ? g : g * (y + p0);
    case UnaryOp::clamp: return (x >= p0 && x <= p1) ? g : 0.0f;
    case UnaryOp::pow: return p0 == 0.0f ? 0.0f : g * p0 * powf(x, p0 - 1.0f);
    case UnaryOp::add: return g;
    case UnaryOp::mul: return g * p0;
  }
  return 0.0f;
}

// x, y: [n]
__global__ void unary_kernel(UnaryOp op, const float* x, float* y, int64_t n, float p0,
                             float p1) {
  AG_GRID_LOOP(i, n) y[i] = apply_unary(op, x[i], p0, p1);
}

void unary(UnaryOp op, const float* x, float* y, int64_t n, float p0, float p1) {
  if (n == 0) return;
  unary_kernel<<<blocks_for(n), kThreads, 0, stream()>>>(op, x, y, n, p0, p1);
  AG_CUDA_CHECK_LAUNCH("unary_kernel");
}

// x, y (either may be null), gy, gx: [n]
__global__ void unary_backward_kernel(UnaryOp op, const float* x, const float* y,
                                      const float* gy, float* gx, int64_t n, float p0,
                                      float p1) {
  AG_GRID_LOOP(i, n) {
    gx[i] = unary_grad(op, x ? x[i] : 0.0f, y ? y[i] : 0.0f, gy[i], p0, p1);
  }
}

void unary_backward(UnaryOp op, const float* x, const float* y, const float* gy, float* gx,
                    int64_t n, float p0, float p1) {
  if (n == 0) return;
  unary_backward_kernel<<<blocks_for(n), kThreads, 0, stream()>>>(op, x, y, gy, gx, n, p0, p1);
  AG_CUDA_CHECK_LAUNCH("unary_backward_kernel");
}

}  // namespace

void register_elementwise_kernels() {
  kernels::fill.set(Device::cuda, &fill);
  kernels::binary.set(Device::cuda, &binary);
  kernels::broadcast.set(Device::cuda, &broadcast);
  kernels::unary.set(Device::cuda, &unary);
  kernels::unary_backward.set(Device::cuda, &unary_backward);
}

}  // namespace ag::cuda
