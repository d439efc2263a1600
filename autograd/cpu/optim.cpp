// CPU optimizer updates: one fused pass over each parameter.
#include <algorithm>
#include <cmath>
#include <vector>

#include "../kernels/optim.h"
#include "parallel.h"

namespace ag::cpu {
namespace {
constexpr int64_t kGrain = 1 << 15;

void adam_step(float* p, const float* g, float* m, float* v, int64_t n, const kernels::AdamParams& a) {
  const float step = a.lr / a.bias_correction1;
  const float inv_sqrt_bc2 = 1.0f / std::sqrt(a.bias_correction2);
  const float decay = a.decoupled ? 1.0f - a.lr * a.weight_decay : 1.0f;
  const float l2 = a.decoupled ? 0.0f : a.weight_decay;
  parallel_for(n, kGrain, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      float gi = g[i] + l2 * p[i];
      m[i] = a.beta1 * m[i] + (1.0f - a.beta1) * gi;
      v[i] = a.beta2 * v[i] + (1.0f - a.beta2) * gi * gi;
      p[i] = p[i] * decay - step * m[i] / (std::sqrt(v[i]) * inv_sqrt_bc2 + a.eps);
    }
  });
}

void sgd_step(float* p, const float* g, float* buf, int64_t n, const kernels::SgdParams& s) {
  parallel_for(n, kGrain, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      float gi = g[i] + s.weight_decay * p[i];
      if (s.momentum != 0.0f) {
        buf[i] = s.momentum * buf[i] + gi;  // starts at 0: the first step keeps g
        gi = s.nesterov ? gi + s.momentum * buf[i] : buf[i];
      }
      p[i] -= s.lr * gi;
    }
  });
}

// Blocks of kGrain elements summed in parallel, then added in block order: the same bits for
// any thread count and any thread timing (an OpenMP reduction adds the threads' partial sums in
// the order they finish).
double sum_squares(const float* x, int64_t n) {
  const int64_t blocks = (n + kGrain - 1) / kGrain;
  std::vector<double> partial(blocks, 0.0);
  parallel_for(blocks, 1, [&](int64_t b, int64_t e) {
    for (int64_t k = b; k < e; ++k) {
      double s = 0;
      for (int64_t i = k * kGrain, end = std::min(n, (k + 1) * kGrain); i < end; ++i)
        s += static_cast<double>(x[i]) * x[i];
      partial[k] = s;
    }
  });
  double total = 0;
  for (double s : partial) total += s;
  return total;
}

void scale(float* x, int64_t n, float s) {
  parallel_for(n, kGrain, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) x[i] *= s;
  });
}

}  // namespace
}  // namespace ag::cpu

namespace ag::kernels {
KernelTable<AdamFn> adam_step{"adam_step", {&cpu::adam_step, nullptr}};
KernelTable<SgdFn> sgd_step{"sgd_step", {&cpu::sgd_step, nullptr}};
KernelTable<SumSquaresFn> sum_squares{"sum_squares", {&cpu::sum_squares, nullptr}};
KernelTable<ScaleFn> scale{"scale", {&cpu::scale, nullptr}};
}  // namespace ag::kernels
