// CPU element-wise kernels. Loops are written so GCC vectorizes them; work is split
// over threads by output rows.
#include <cmath>

#include "../kernels/elementwise.h"
#include "parallel.h"
#include "simd_math.h"

namespace ag::cpu {
namespace {
using kernels::BinaryOp;
using kernels::BroadcastPlan;
using kernels::UnaryOp;

constexpr int64_t kGrain = 1 << 15;  // elements per thread below which we stay serial

// One contiguous output run with operand strides sa, sb in {0, 1}.
template <class F>
inline void binary_run(const float* a, const float* b, float* o, int64_t n, int64_t sa,
                       int64_t sb, F f) {
  if (sa && sb) {
    for (int64_t i = 0; i < n; ++i) o[i] = f(a[i], b[i]);
  } else if (sa) {
    const float bv = b[0];
    for (int64_t i = 0; i < n; ++i) o[i] = f(a[i], bv);
  } else if (sb) {
    const float av = a[0];
    for (int64_t i = 0; i < n; ++i) o[i] = f(av, b[i]);
  } else {
    const float v = f(a[0], b[0]);
    for (int64_t i = 0; i < n; ++i) o[i] = v;
  }
}

template <class F>
void binary_loop(const float* a, const float* b, float* o, const BroadcastPlan& p, F f) {
  const int last = p.ndim - 1;
  const int64_t inner = p.shape[last];
  const int64_t outer = p.numel / inner;
  const int64_t sa = p.stride_a[last], sb = p.stride_b[last];
  if (outer == 1) {
    parallel_for(inner, kGrain, [&](int64_t beg, int64_t end) {
      binary_run(a + beg * sa, b + beg * sb, o + beg, end - beg, sa, sb, f);
    });
    return;
  }
  parallel_for(outer, std::max<int64_t>(1, kGrain / inner), [&](int64_t beg, int64_t end) {
    for (int64_t r = beg; r < end; ++r) {
      int64_t oa = 0, ob = 0, rem = r;
      for (int d = last - 1; d >= 0; --d) {
        int64_t i = rem % p.shape[d];
        rem /= p.shape[d];
        oa += i * p.stride_a[d];
        ob += i * p.stride_b[d];
      }
      binary_run(a + oa, b + ob, o + r * inner, inner, sa, sb, f);
    }
  });
}

void binary(BinaryOp op, const float* a, const float* b, float* out, const BroadcastPlan& p) {
  if (p.numel == 0) return;
  switch (op) {
    case BinaryOp::add: return binary_loop(a, b, out, p, [](float x, float y) { return x + y; });
    case BinaryOp::sub: return binary_loop(a, b, out, p, [](float x, float y) { return x - y; });
    case BinaryOp::mul: return binary_loop(a, b, out, p, [](float x, float y) { return x * y; });
    case BinaryOp::div: return binary_loop(a, b, out, p, [](float x, float y) { return x / y; });
    case BinaryOp::pow:
      return binary_loop(a, b, out, p, [](float x, float y) { return std::pow(x, y); });
  }
}

void broadcast(const float* a, float* out, const BroadcastPlan& p) {
  if (p.numel == 0) return;
  BroadcastPlan q = p;
  for (int d = 0; d < q.ndim; ++d) q.stride_b[d] = q.stride_a[d];
  binary_loop(a, a, out, q, [](float x, float) { return x; });
}

template <class F>
void map(const float* x, float* y, int64_t n, F f) {
  parallel_for(n, kGrain, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) y[i] = f(x[i]);
  });
}

constexpr float kInvSqrt2 = 0.70710678118654752f;
constexpr float kInvSqrt2Pi = 0.39894228040143268f;

void unary(UnaryOp op, const float* x, float* y, int64_t n, float p0, float p1) {
  switch (op) {
    case UnaryOp::neg: return map(x, y, n, [](float v) { return -v; });
    case UnaryOp::exp: return map(x, y, n, [](float v) { return fast_exp(v); });
    case UnaryOp::log: return map(x, y, n, [](float v) { return std::log(v); });
    case UnaryOp::sqrt: return map(x, y, n, [](float v) { return std::sqrt(v); });
    case UnaryOp::rsqrt: return map(x, y, n, [](float v) { return 1.0f / std::sqrt(v); });
    case UnaryOp::abs: return map(x, y, n, [](float v) { return std::fabs(v); });
    case UnaryOp::relu: return map(x, y, n, [](float v) { return v > 0 ? v : 0.0f; });
    case UnaryOp::gelu:
      return map(x, y, n, [](float v) { return 0.5f * v * (1.0f + fast_erf(v * kInvSqrt2)); });
    case UnaryOp::silu: return map(x, y, n, [](float v) { return v * fast_sigmoid(v); });
    case UnaryOp::sigmoid: return map(x, y, n, [](float v) { return fast_sigmoid(v); });
    case UnaryOp::tanh: return map(x, y, n, [](float v) { return std::tanh(v); });
    case UnaryOp::elu:
      return map(x, y, n, [p0](float v) { return v > 0 ? v : p0 * std::expm1(v); });
    case UnaryOp::clamp:
      return map(x, y, n, [p0, p1](float v) { return v < p0 ? p0 : (v > p1 ? p1 : v); });
    case UnaryOp::pow:
      if (p0 == 2.0f) return map(x, y, n, [](float v) { return v * v; });
      return map(x, y, n, [p0](float v) { return std::pow(v, p0); });
    case UnaryOp::add: return map(x, y, n, [p0](float v) { return v + p0; });
    case UnaryOp::mul: return map(x, y, n, [p0](float v) { return v * p0; });
  }
}

// gx[i] = f(x[i], y[i], gy[i]); x or y may be null when the op does not read it.
template <class F>
void map_backward(const float* x, const float* y, const float* gy, float* gx, int64_t n, F f) {
  parallel_for(n, kGrain, [&](int64_t b, int64_t e) {
    if (x && y) {
      for (int64_t i = b; i < e; ++i) gx[i] = f(x[i], y[i], gy[i]);
    } else if (x) {
      for (int64_t i = b; i < e; ++i) gx[i] = f(x[i], 0.0f, gy[i]);
    } else {
      for (int64_t i = b; i < e; ++i) gx[i] = f(0.0f, y ? y[i] : 0.0f, gy[i]);
    }
  });
}

void unary_backward(UnaryOp op, const float* x, const float* y, const float* gy, float* gx,
                    int64_t n, float p0, float p1) {
  switch (op) {
    case UnaryOp::neg: return map_backward(x, y, gy, gx, n, [](float, float, float g) { return -g; });
    case UnaryOp::exp:
      return map_backward(x, y, gy, gx, n, [](float, float v, float g) { return g * v; });
    case UnaryOp::log:
      return map_backward(x, y, gy, gx, n, [](float u, float, float g) { return g / u; });
    case UnaryOp::sqrt:
      return map_backward(x, y, gy, gx, n, [](float, float v, float g) { return 0.5f * g / v; });
    case UnaryOp::rsqrt:
      return map_backward(x, y, gy, gx, n,
                          [](float, float v, float g) { return -0.5f * g * v * v * v; });
    case UnaryOp::abs:
      return map_backward(x, y, gy, gx, n, [](float u, float, float g) {
        return u > 0 ? g : (u < 0 ? -g : 0.0f);
      });
    case UnaryOp::relu:
      return map_backward(x, y, gy, gx, n, [](float, float v, float g) { return v > 0 ? g : 0.0f; });
    case UnaryOp::gelu:
      return map_backward(x, y, gy, gx, n, [](float u, float, float g) {
        float cdf = 0.5f * (1.0f + fast_erf(u * kInvSqrt2));
        float pdf = kInvSqrt2Pi * fast_exp(-0.5f * u * u);
        return g * (cdf + u * pdf);
      });
    case UnaryOp::silu:
      return map_backward(x, y, gy, gx, n, [](float u, float, float g) {
        float s = fast_sigmoid(u);
        return g * s * (1.0f + u * (1.0f - s));
      });
    case UnaryOp::sigmoid:
      return map_backward(x, y, gy, gx, n, [](float, float v, float g) { return g * v * (1.0f - v); });
    case UnaryOp::tanh:
      return map_backward(x, y, gy, gx, n, [](float, float v, float g) { return g * (1.0f - v * v); });
    case UnaryOp::elu:
      return map_backward(x, y, gy, gx, n,
                          [p0](float, float v, float g) { return v > 0 ? g : g * (v + p0); });
    case UnaryOp::clamp:
      return map_backward(x, y, gy, gx, n, [p0, p1](float u, float, float g) {
        return (u >= p0 && u <= p1) ? g : 0.0f;
      });
    case UnaryOp::pow:
      return map_backward(x, y, gy, gx, n, [p0](float u, float, float g) {
        return p0 == 0.0f ? 0.0f : g * p0 * std::pow(u, p0 - 1.0f);
      });
    case UnaryOp::add: return map_backward(x, y, gy, gx, n, [](float, float, float g) { return g; });
    case UnaryOp::mul:
      return map_backward(x, y, gy, gx, n, [p0](float, float, float g) { return g * p0; });
  }
}

}  // namespace
}  // namespace ag::cpu

namespace ag::kernels {
KernelTable<BinaryFn> binary{"binary", {&cpu::binary, nullptr}};
KernelTable<BroadcastFn> broadcast{"broadcast", {&cpu::broadcast, nullptr}};
KernelTable<UnaryFn> unary{"unary", {&cpu::unary, nullptr}};
KernelTable<UnaryBackwardFn> unary_backward{"unary_backward", {&cpu::unary_backward, nullptr}};
}  // namespace ag::kernels
