// Element-wise kernels: binary ops with NumPy broadcasting, unary ops with fused backward.
#pragma once
#include <cstdint>

#include "../dispatch.h"

namespace ag::kernels {

inline constexpr int kMaxDims = 8;

// Output shape with per-operand element strides (0 on broadcast dims), adjacent dims
// merged where both operands allow it. Produced by make_broadcast_plan (ops/broadcast.h).
struct BroadcastPlan {
  int ndim = 0;
  int64_t numel = 0;
  int64_t shape[kMaxDims];
  int64_t stride_a[kMaxDims];
  int64_t stride_b[kMaxDims];
};

enum class BinaryOp { add, sub, mul, div, pow };

// out[i] = a[i] op b[i] over the plan's output index space.
using BinaryFn = void(BinaryOp op, const float* a, const float* b, float* out,
                      const BroadcastPlan& plan);

enum class UnaryOp {
  neg, exp, log, sqrt, rsqrt, abs, relu, gelu, silu, sigmoid, tanh,
  elu,       // p0 = alpha
  clamp,     // p0 = min, p1 = max
  pow,       // p0 = exponent
  add,       // p0 = scalar added
  mul,       // p0 = scalar factor
};

using UnaryFn = void(UnaryOp op, const float* x, float* y, int64_t n, float p0, float p1);
// gx = gy * dy/dx, given x and y = f(x). Only what backward_reads(op) names is passed;
// the other pointer is null.
using UnaryBackwardFn = void(UnaryOp op, const float* x, const float* y, const float* gy,
                             float* gx, int64_t n, float p0, float p1);

// What an op's backward reads: its input, its output, or neither.
struct BackwardReads {
  bool x, y;
};
inline BackwardReads backward_reads(UnaryOp op) {
  switch (op) {
    case UnaryOp::exp: case UnaryOp::sqrt: case UnaryOp::rsqrt: case UnaryOp::sigmoid:
    case UnaryOp::tanh: case UnaryOp::relu: case UnaryOp::elu:
      return {false, true};
    case UnaryOp::neg: case UnaryOp::add: case UnaryOp::mul:
      return {false, false};
    default:
      return {true, false};
  }
}

extern KernelTable<BinaryFn> binary;
extern KernelTable<UnaryFn> unary;
extern KernelTable<UnaryBackwardFn> unary_backward;

}  // namespace ag::kernels

namespace ag::kernels {
// out = a broadcast to the plan's shape (stride_b is ignored).
using BroadcastFn = void(const float* a, float* out, const BroadcastPlan& plan);
extern KernelTable<BroadcastFn> broadcast;
}  // namespace ag::kernels
