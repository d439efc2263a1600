// CPU softmax and log-softmax over the middle axis of [outer, n, inner]. Contiguous rows
// (inner == 1) take three vectorized passes: max, exp-and-sum (simd_reduce.h), scale.
// Strided rows (inner > 1) run on blocks of kCols columns at once, vectorized across them.
#include <algorithm>
#include <cmath>

#include "../kernels/softmax.h"
#include "parallel.h"
#include "simd_math.h"
#include "simd_reduce.h"

namespace ag::cpu {
namespace {

constexpr int64_t kCols = 64;        // columns handled together when inner > 1
constexpr int64_t kGrain = 1 << 14;  // elements per thread below which we stay serial

int64_t grain_for(int64_t work_per_item) { return std::max<int64_t>(1, kGrain / work_per_item); }

// x, y: [n]
void softmax_row(const float* x, float* y, int64_t n, bool log) {
  const float m = simd_max(x, n);  // NaNs skipped here poison the sum below
  if (log) {
    const float log_sum = std::log(simd_sum(n, [&](int64_t k) { return fast_exp(x[k] - m); }));
    for (int64_t k = 0; k < n; ++k) y[k] = (x[k] - m) - log_sum;
    return;
  }
  const float inv = 1.0f / simd_sum(n, [&](int64_t k) {
    float e = fast_exp(x[k] - m);
    y[k] = e;
    return e;
  });
  for (int64_t k = 0; k < n; ++k) y[k] *= inv;
}

// Columns [i0, i0 + w) of one [n, inner] slab; w <= kCols.
void softmax_cols(const float* x, float* y, int64_t n, int64_t inner, int64_t i0, int64_t w,
                  bool log) {
  float m[kCols], s[kCols];
  std::fill(m, m + w, -INFINITY);
  std::fill(s, s + w, 0.0f);
  for (int64_t k = 0; k < n; ++k) {
    const float* r = x + k * inner + i0;
    for (int64_t i = 0; i < w; ++i) m[i] = r[i] > m[i] ? r[i] : m[i];
  }
  for (int64_t k = 0; k < n; ++k) {
    const float* r = x + k * inner + i0;
    float* out = y + k * inner + i0;
    if (log) {
      for (int64_t i = 0; i < w; ++i) s[i] += fast_exp(r[i] - m[i]);
    } else {
      for (int64_t i = 0; i < w; ++i) s[i] += out[i] = fast_exp(r[i] - m[i]);
    }
  }
  for (int64_t i = 0; i < w; ++i) s[i] = log ? std::log(s[i]) : 1.0f / s[i];
  for (int64_t k = 0; k < n; ++k) {
    const float* r = x + k * inner + i0;
    float* out = y + k * inner + i0;
    if (log) {
      for (int64_t i = 0; i < w; ++i) out[i] = (r[i] - m[i]) - s[i];
    } else {
      for (int64_t i = 0; i < w; ++i) out[i] *= s[i];
    }
  }
}

// Kept keys only (keep[k] != 0); all 0 when none is kept.   x, y: [n]
void masked_softmax_row(const float* x, const uint8_t* keep, float* y, int64_t n) {
  float m = -INFINITY;
  bool any = false;
  for (int64_t k = 0; k < n; ++k)
    if (keep[k]) {
      any = true;
      m = x[k] > m ? x[k] : m;
    }
  if (!any) {
    std::fill(y, y + n, 0.0f);
    return;
  }
  const float inv = 1.0f / simd_sum(n, [&](int64_t k) {
    float e = keep[k] ? fast_exp(x[k] - m) : 0.0f;
    y[k] = e;
    return e;
  });
  for (int64_t k = 0; k < n; ++k) y[k] *= inv;
}

// y, gy, gx: [n]
void softmax_backward_row(const float* y, const float* gy, float* gx, int64_t n, bool log) {
  if (log) {
    const float s = simd_sum(n, [&](int64_t k) { return gy[k]; });
    for (int64_t k = 0; k < n; ++k) gx[k] = gy[k] - fast_exp(y[k]) * s;
    return;
  }
  const float dot = simd_sum(n, [&](int64_t k) { return gy[k] * y[k]; });
  for (int64_t k = 0; k < n; ++k) gx[k] = y[k] * (gy[k] - dot);
}

// Columns [i0, i0 + w) of one [n, inner] slab; w <= kCols.
void softmax_backward_cols(const float* y, const float* gy, float* gx, int64_t n,
                           int64_t inner, int64_t i0, int64_t w, bool log) {
  float s[kCols];
  std::fill(s, s + w, 0.0f);
  for (int64_t k = 0; k < n; ++k) {
    const int64_t off = k * inner + i0;
    if (log) {
      for (int64_t i = 0; i < w; ++i) s[i] += gy[off + i];
    } else {
      for (int64_t i = 0; i < w; ++i) s[i] += gy[off + i] * y[off + i];
    }
  }
  for (int64_t k = 0; k < n; ++k) {
    const int64_t off = k * inner + i0;
    if (log) {
      for (int64_t i = 0; i < w; ++i) gx[off + i] = gy[off + i] - fast_exp(y[off + i]) * s[i];
    } else {
      for (int64_t i = 0; i < w; ++i) gx[off + i] = y[off + i] * (gy[off + i] - s[i]);
    }
  }
}

// row(o) for contiguous rows, cols(o, i0, w) for column blocks of strided ones.
template <class Row, class Cols>
void over_slices(int64_t outer, int64_t n, int64_t inner, Row row, Cols cols) {
  if (n == 0) return;
  if (inner == 1) {
    parallel_for(outer, grain_for(n), [&](int64_t b, int64_t e) {
      for (int64_t o = b; o < e; ++o) row(o);
    });
    return;
  }
  const int64_t blocks = (inner + kCols - 1) / kCols;
  parallel_for(outer * blocks, grain_for(n * kCols), [&](int64_t b, int64_t e) {
    for (int64_t t = b; t < e; ++t) {
      const int64_t i0 = t % blocks * kCols;
      cols(t / blocks, i0, std::min(kCols, inner - i0));
    }
  });
}

void softmax(const float* x, float* y, int64_t outer, int64_t n, int64_t inner, bool log) {
  over_slices(
      outer, n, inner, [&](int64_t o) { softmax_row(x + o * n, y + o * n, n, log); },
      [&](int64_t o, int64_t i0, int64_t w) {
        softmax_cols(x + o * n * inner, y + o * n * inner, n, inner, i0, w, log);
      });
}

void masked_softmax(const float* x, const uint8_t* keep, float* y, int64_t rows, int64_t n,
                    int64_t heads, int64_t t, int64_t mask_t) {
  if (n == 0) return;
  parallel_for(rows, grain_for(n), [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; ++r)
      masked_softmax_row(x + r * n, keep + kernels::mask_row(r, heads, t, mask_t) * n,
                         y + r * n, n);
  });
}

void softmax_backward(const float* y, const float* gy, float* gx, int64_t outer, int64_t n,
                      int64_t inner, bool log) {
  over_slices(
      outer, n, inner,
      [&](int64_t o) { softmax_backward_row(y + o * n, gy + o * n, gx + o * n, n, log); },
      [&](int64_t o, int64_t i0, int64_t w) {
        const int64_t off = o * n * inner;
        softmax_backward_cols(y + off, gy + off, gx + off, n, inner, i0, w, log);
      });
}

}  // namespace
}  // namespace ag::cpu

namespace ag::kernels {
KernelTable<SoftmaxFn> softmax{"softmax", {&cpu::softmax, nullptr}};
KernelTable<MaskedSoftmaxFn> masked_softmax{"masked_softmax", {&cpu::masked_softmax, nullptr}};
KernelTable<SoftmaxBackwardFn> softmax_backward{"softmax_backward",
                                                {&cpu::softmax_backward, nullptr}};
}  // namespace ag::kernels
