// CPU reductions over the middle axis of [outer, n, inner].
#include <cstring>
#include <vector>

#include "../kernels/reduce.h"
#include "parallel.h"

namespace ag::cpu {
namespace {

void sum(const float* x, float* y, int64_t outer, int64_t n, int64_t inner) {
  if (inner == 1) {  // contiguous rows: 8 partial sums keep the adds independent
    parallel_for(outer, std::max<int64_t>(1, 32768 / std::max<int64_t>(n, 1)),
                 [&](int64_t b, int64_t e) {
                   for (int64_t o = b; o < e; ++o) {
                     const float* r = x + o * n;
                     float acc[8] = {};
                     int64_t k = 0;
                     for (; k + 8 <= n; k += 8)
                       for (int j = 0; j < 8; ++j) acc[j] += r[k + j];
                     float s = 0;
                     for (; k < n; ++k) s += r[k];
                     for (int j = 0; j < 8; ++j) s += acc[j];
                     y[o] = s;
                   }
                 });
    return;
  }
  if (outer == 1 && inner < 4096) {  // column sums of a tall matrix: split rows, then merge
    int threads = omp_in_parallel() ? 1 : omp_get_max_threads();
    int64_t parts = std::min<int64_t>(threads, std::max<int64_t>(1, n * inner / 32768));
    std::vector<float> partial(parts * inner, 0.0f);
    parallel_for(parts, 1, [&](int64_t pb, int64_t pe) {
      for (int64_t p = pb; p < pe; ++p) {
        float* acc = partial.data() + p * inner;
        for (int64_t k = n * p / parts; k < n * (p + 1) / parts; ++k) {
          const float* r = x + k * inner;
          for (int64_t i = 0; i < inner; ++i) acc[i] += r[i];
        }
      }
    });
    for (int64_t i = 0; i < inner; ++i) {
      float s = 0;
      for (int64_t p = 0; p < parts; ++p) s += partial[p * inner + i];
      y[i] = s;
    }
    return;
  }
  parallel_for(outer * inner, 32768 / std::max<int64_t>(n, 1) + 1, [&](int64_t b, int64_t e) {
    // Work on whole (o, i-range) runs so the inner loop is contiguous.
    for (int64_t flat = b; flat < e;) {
      int64_t o = flat / inner, i0 = flat % inner;
      int64_t i1 = std::min(inner, i0 + (e - flat));
      float* out = y + o * inner;
      for (int64_t i = i0; i < i1; ++i) out[i] = 0;
      for (int64_t k = 0; k < n; ++k) {
        const float* r = x + (o * n + k) * inner;
        for (int64_t i = i0; i < i1; ++i) out[i] += r[i];
      }
      flat += i1 - i0;
    }
  });
}

void max(const float* x, float* y, int64_t* idx, int64_t outer, int64_t n, int64_t inner) {
  parallel_for(outer * inner, 32768 / std::max<int64_t>(n, 1) + 1, [&](int64_t b, int64_t e) {
    for (int64_t flat = b; flat < e; ++flat) {
      int64_t o = flat / inner, i = flat % inner;
      const float* r = x + o * n * inner + i;
      float best = r[0];
      int64_t arg = 0;
      for (int64_t k = 1; k < n && best == best; ++k) {  // a NaN wins, as in PyTorch
        float v = r[k * inner];
        if (v > best || v != v) {
          best = v;
          arg = k;
        }
      }
      y[flat] = best;
      idx[flat] = arg;
    }
  });
}

void max_backward(const float* gy, const int64_t* idx, float* gx, int64_t outer, int64_t n,
                  int64_t inner) {
  std::memset(gx, 0, sizeof(float) * outer * n * inner);
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < inner; ++i)
      gx[(o * n + idx[o * inner + i]) * inner + i] = gy[o * inner + i];
}

}  // namespace
}  // namespace ag::cpu

namespace ag::kernels {
KernelTable<SumFn> sum{"sum", {&cpu::sum, nullptr}};
KernelTable<MaxFn> max{"max", {&cpu::max, nullptr}};
KernelTable<MaxBackwardFn> max_backward{"max_backward", {&cpu::max_backward, nullptr}};
}  // namespace ag::kernels
