// CPU layer norm (rows of the last dim, split over threads) and batch norm (per channel
// of [N, C, L], channels split over threads). Statistics are two-pass (mean, then the
// mean squared deviation), which stays accurate when |mean| >> std.
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "../kernels/norm.h"
#include "parallel.h"
#include "simd_reduce.h"

namespace ag::cpu {
namespace {

constexpr int64_t kGrain = 1 << 14;  // elements per thread below which we stay serial

int64_t grain_for(int64_t work_per_item) {
  return std::max<int64_t>(1, kGrain / std::max<int64_t>(work_per_item, 1));
}

// ---- layer norm ----

// One row x, y [D]; returns its mean and rstd.
void layer_norm_row(const float* x, const float* w, const float* b, float* y, float& mean,
                    float& rstd, int64_t D, float eps) {
  const float mu = simd_sum(D, [&](int64_t k) { return x[k]; }) / static_cast<float>(D);
  const float var = simd_sum(D, [&](int64_t k) {
                      float d = x[k] - mu;
                      return d * d;
                    }) / static_cast<float>(D);
  const float r = 1.0f / std::sqrt(var + eps);
  for (int64_t k = 0; k < D; ++k) {  // GCC unswitches the null tests out of the loop
    float v = (x[k] - mu) * r;
    if (w) v *= w[k];
    if (b) v += b[k];
    y[k] = v;
  }
  mean = mu;
  rstd = r;
}

void layer_norm(const float* x, const float* w, const float* b, float* y, float* mean,
                float* rstd, int64_t rows, int64_t D, float eps) {
  parallel_for(rows, grain_for(D), [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r)
      layer_norm_row(x + r * D, w, b, y + r * D, mean[r], rstd[r], D, eps);
  });
}

// Rows [r0, r1): gx rows when gx is given; gy * xhat and gy summed into pw, pb [D] when given.
void layer_norm_backward_rows(const float* x, const float* gy, const float* w,
                              const float* mean, const float* rstd, float* gx, float* pw,
                              float* pb, int64_t r0, int64_t r1, int64_t D) {
  const float inv_d = 1.0f / static_cast<float>(D);
  for (int64_t r = r0; r < r1; ++r) {
    const float* xr = x + r * D;
    const float* gr = gy + r * D;
    const float mu = mean[r], rs = rstd[r];
    if (gx) {
      // With g = gy * w and xhat = (x - mu) * rs:
      //   gx = rs * (g - mean(g) - xhat * mean(g * xhat))
      float sum_g = 0, sum_gx = 0;
#pragma omp simd reduction(+ : sum_g, sum_gx)
      for (int64_t k = 0; k < D; ++k) {
        float g = w ? gr[k] * w[k] : gr[k];
        sum_g += g;
        sum_gx += g * (xr[k] - mu);
      }
      const float mg = sum_g * inv_d, mgx = sum_gx * rs * inv_d;
      float* out = gx + r * D;
      for (int64_t k = 0; k < D; ++k) {
        float g = w ? gr[k] * w[k] : gr[k];
        out[k] = rs * (g - mg - (xr[k] - mu) * rs * mgx);
      }
    }
    if (pw)
      for (int64_t k = 0; k < D; ++k) pw[k] += gr[k] * (xr[k] - mu) * rs;
    if (pb)
      for (int64_t k = 0; k < D; ++k) pb[k] += gr[k];
  }
}

void layer_norm_backward(const float* x, const float* gy, const float* w, const float* mean,
                         const float* rstd, float* gx, float* gw, float* gb, int64_t rows,
                         int64_t D) {
  if (!gw && !gb) {
    parallel_for(rows, grain_for(D), [&](int64_t r0, int64_t r1) {
      layer_norm_backward_rows(x, gy, w, mean, rstd, gx, nullptr, nullptr, r0, r1, D);
    });
    return;
  }
  // Each part of the rows sums into its own [2, D] slice; the slices are added at the end.
  const int threads = omp_in_parallel() ? 1 : omp_get_max_threads();
  const int64_t parts = std::min<int64_t>(threads, std::max<int64_t>(1, rows * D / kGrain));
  std::vector<float> partial(parts * 2 * D, 0.0f);
  parallel_for(parts, 1, [&](int64_t p0, int64_t p1) {
    for (int64_t p = p0; p < p1; ++p) {
      float* pw = partial.data() + p * 2 * D;
      layer_norm_backward_rows(x, gy, w, mean, rstd, gx, gw ? pw : nullptr,
                               gb ? pw + D : nullptr, rows * p / parts, rows * (p + 1) / parts,
                               D);
    }
  });
  for (int64_t k = 0; k < D; ++k) {
    float sw = 0, sb = 0;
    for (int64_t p = 0; p < parts; ++p) {
      sw += partial[p * 2 * D + k];
      sb += partial[p * 2 * D + D + k];
    }
    if (gw) gw[k] = sw;
    if (gb) gb[k] = sb;
  }
}

// ---- batch norm ----

// sum over n, l of f(i) for the flat indices i = (n * C + c) * L + l of channel c; float
// within a row of L, double across rows.
template <class F>
double channel_sum(int64_t N, int64_t C, int64_t L, int64_t c, F f) {
  double s = 0;
  for (int64_t n = 0; n < N; ++n) {
    const int64_t base = (n * C + c) * L;
    s += simd_sum(L, [&](int64_t l) { return f(base + l); });
  }
  return s;
}

void batch_norm_stats(const float* x, float* mean, float* invstd, float* running_mean,
                      float* running_var, int64_t N, int64_t C, int64_t L, float momentum,
                      float eps) {
  const int64_t M = N * L;
  parallel_for(C, grain_for(M), [&](int64_t c0, int64_t c1) {
    for (int64_t c = c0; c < c1; ++c) {
      const double mu = channel_sum(N, C, L, c, [&](int64_t i) { return x[i]; }) / M;
      const float muf = static_cast<float>(mu);
      const double var = channel_sum(N, C, L, c, [&](int64_t i) {
                           float d = x[i] - muf;
                           return d * d;
                         }) / M;
      mean[c] = muf;
      invstd[c] = static_cast<float>(1.0 / std::sqrt(var + eps));
      if (running_mean)
        running_mean[c] = static_cast<float>((1 - momentum) * running_mean[c] + momentum * mu);
      if (running_var) {
        const double unbiased = M > 1 ? var * M / (M - 1) : var;
        running_var[c] = static_cast<float>((1 - momentum) * running_var[c] + momentum * unbiased);
      }
    }
  });
}

// Loops over memory sit in functions of their own: as locals, the pointers and constants
// cannot alias the stores, as they could when read from a closure inside an OpenMP region.

// y = x * a + s over one channel's row [n].
void affine_row(const float* x, float a, float s, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = x[i] * a + s;
}

// y = x * scale + shift over one row of channels [n].
void affine_channels(const float* x, const float* scale, const float* shift, float* y,
                     int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = x[i] * scale[i] + shift[i];
}

void batch_norm(const float* x, const float* mean, const float* invstd, const float* w,
                const float* b, float* y, int64_t N, int64_t C, int64_t L) {
  // y = x * scale[c] + shift[c]
  std::vector<float> scale(C), shift(C);
  for (int64_t c = 0; c < C; ++c) {
    scale[c] = invstd[c] * (w ? w[c] : 1.0f);
    shift[c] = (b ? b[c] : 0.0f) - mean[c] * scale[c];
  }
  if (L == 1) {  // [N, C]: rows of channels
    parallel_for(N, grain_for(C), [&](int64_t n0, int64_t n1) {
      for (int64_t n = n0; n < n1; ++n)
        affine_channels(x + n * C, scale.data(), shift.data(), y + n * C, C);
    });
    return;
  }
  parallel_for(N * C, grain_for(L), [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r)
      affine_row(x + r * L, scale[r % C], shift[r % C], y + r * L, L);
  });
}

// sum_g = sum gy and sum_gxhat = sum gy * (x - mu) * is over channel c, in one pass.
void channel_grad_sums(const float* x, const float* gy, int64_t N, int64_t C, int64_t L,
                       int64_t c, float mu, float is, float& sum_g, float& sum_gxhat) {
  double sg = 0, sgd = 0;
  for (int64_t n = 0; n < N; ++n) {
    const float* xr = x + (n * C + c) * L;
    const float* gr = gy + (n * C + c) * L;
    float a = 0, b = 0;
#pragma omp simd reduction(+ : a, b)
    for (int64_t l = 0; l < L; ++l) {
      a += gr[l];
      b += gr[l] * (xr[l] - mu);
    }
    sg += a;
    sgd += b;
  }
  sum_g = static_cast<float>(sg);
  sum_gxhat = static_cast<float>(sgd) * is;
}

// gx = a * (gy - mg - (x - mu) * k) over channel c of [N, C, L].
void channel_gx(const float* x, const float* gy, float* gx, int64_t N, int64_t C, int64_t L,
                int64_t c, const kernels::BatchNormInputGrad& grad) {
  for (int64_t n = 0; n < N; ++n) {
    const int64_t base = (n * C + c) * L;
    for (int64_t l = 0; l < L; ++l) gx[base + l] = grad(gy[base + l], x[base + l]);
  }
}

void batch_norm_backward(const float* x, const float* gy, const float* mean,
                         const float* invstd, const float* w, float* gx, float* gw, float* gb,
                         int64_t N, int64_t C, int64_t L, bool batch_stats) {
  const int64_t M = N * L;
  parallel_for(C, grain_for(M), [&](int64_t c0, int64_t c1) {
    for (int64_t c = c0; c < c1; ++c) {
      const float mu = mean[c], is = invstd[c];
      // sum gy and sum gy * xhat: gbias and gweight, and what gx needs in training.
      float sum_g = 0, sum_gxhat = 0;
      if (gw || gb || (gx && batch_stats))
        channel_grad_sums(x, gy, N, C, L, c, mu, is, sum_g, sum_gxhat);
      if (gb) gb[c] = sum_g;
      if (gw) gw[c] = sum_gxhat;
      if (!gx) continue;
      channel_gx(x, gy, gx, N, C, L, c,
                 kernels::BatchNormInputGrad(sum_g, sum_gxhat, M, mu, is, w ? w[c] : 1.0f,
                                             batch_stats));
    }
  });
}

}  // namespace
}  // namespace ag::cpu

namespace ag::kernels {
KernelTable<LayerNormFn> layer_norm{"layer_norm", {&cpu::layer_norm, nullptr}};
KernelTable<LayerNormBackwardFn> layer_norm_backward{"layer_norm_backward",
                                                     {&cpu::layer_norm_backward, nullptr}};
KernelTable<BatchNormStatsFn> batch_norm_stats{"batch_norm_stats",
                                               {&cpu::batch_norm_stats, nullptr}};
KernelTable<BatchNormFn> batch_norm{"batch_norm", {&cpu::batch_norm, nullptr}};
KernelTable<BatchNormBackwardFn> batch_norm_backward{"batch_norm_backward",
                                                     {&cpu::batch_norm_backward, nullptr}};
}  // namespace ag::kernels
