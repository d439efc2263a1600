// CPU convolution kernels. The general case lowers every sample to GEMMs over an im2col
// buffer: samples run one per thread (single-threaded GEMMs) when there are at least as
// many as threads, otherwise one after another with threaded GEMMs. Depthwise 1-D
// convolution runs direct loops over zero-padded rows, vectorized along the length.
#include <omp.h>

#include <algorithm>
#include <memory>
#include <vector>

#include "../kernels/conv.h"
#include "../kernels/matmul.h"
#include "parallel.h"

namespace ag::cpu {
namespace {
using kernels::ConvGeometry;
using kernels::ConvLowering;

// parallel_for grain for rows of `work` operations each: at least ~8K operations a thread.
int64_t rows_per_task(int64_t work) {
  return std::max<int64_t>(1, 8192 / std::max<int64_t>(work, 1));
}

// Sum of v[0, n) in 8 independent lanes, so that the loop vectorizes without -ffast-math.
float sum_of(const float* v, int64_t n) {
  float lane[8] = {};
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int j = 0; j < 8; ++j) lane[j] += v[i + j];
  float s = 0;
  for (; i < n; ++i) s += v[i];
  for (float l : lane) s += l;
  return s;
}

// dst[i] += src[i] for i in [0, n).
void add_into(float* dst, const float* src, int64_t n) {
  for (int64_t i = 0; i < n; ++i) dst[i] += src[i];
}

// gb[c] = sum over samples and positions of gy [N, C, P].
void bias_grad(const float* gy, float* gb, int64_t N, int64_t C, int64_t P) {
  parallel_for(C, rows_per_task(N * P), [&](int64_t b, int64_t e) {
    for (int64_t c = b; c < e; ++c) {
      float s = 0;
      for (int64_t n = 0; n < N; ++n) s += sum_of(gy + (n * C + c) * P, P);
      gb[c] = s;
    }
  });
}

// ---- General case: im2col + GEMM ----

// Output positions o in [lo, hi) whose input o * stride + offset lies in [0, size).
struct Span {
  int64_t lo, hi;
};
Span valid_span(int64_t offset, int64_t stride, int64_t size, int64_t out) {
  int64_t lo = offset >= 0 ? 0 : (stride - 1 - offset) / stride;
  int64_t hi = offset >= size ? 0 : (size - 1 - offset) / stride + 1;
  lo = std::min(lo, out);
  return {lo, std::clamp(hi, lo, out)};
}

// The column matrix of one sample is [C_in * KH * KW, H_out * W_out]: row (c, kh, kw)
// holds the input that tap meets at every output position (0 where it falls in the
// padding). Calls fn(col_offset, x_offset, span) for each output row of each column row
// whose input row is inside x; output ow of the span reads x[x_offset + ow * stride_w].
template <class Fn>
void for_each_tap(const ConvGeometry& g, Fn fn) {
  const int64_t P = g.H_out * g.W_out;
  for (int64_t c = 0; c < g.C_in; ++c)
    for (int64_t kh = 0; kh < g.KH; ++kh)
      for (int64_t kw = 0; kw < g.KW; ++kw) {
        const int64_t row = ((c * g.KH + kh) * g.KW + kw) * P;
        const int64_t off_h = kh * g.dil_h - g.pad_h, off_w = kw * g.dil_w - g.pad_w;
        const Span sh = valid_span(off_h, g.stride_h, g.H, g.H_out);
        const Span sw = valid_span(off_w, g.stride_w, g.W, g.W_out);
        for (int64_t oh = sh.lo; oh < sh.hi; ++oh)
          fn(row + oh * g.W_out, (c * g.H + oh * g.stride_h + off_h) * g.W + off_w, sw);
      }
}

// col [C_in*KH*KW, H_out*W_out] from one sample x [C_in, H, W].
void im2col(const float* x, float* col, const ConvGeometry& g) {
  std::fill(col, col + g.C_in * g.KH * g.KW * g.H_out * g.W_out, 0.0f);
  const int64_t s = g.stride_w;
  for_each_tap(g, [&](int64_t co, int64_t xo, Span sp) {
    for (int64_t ow = sp.lo; ow < sp.hi; ++ow) col[co + ow] = x[xo + ow * s];
  });
}

// gx [C_in, H, W] = the sum of the columns col [C_in*KH*KW, H_out*W_out] at their inputs.
void col2im(const float* col, float* gx, const ConvGeometry& g) {
  std::fill(gx, gx + g.C_in * g.H * g.W, 0.0f);
  const int64_t s = g.stride_w;
  for_each_tap(g, [&](int64_t co, int64_t xo, Span sp) {
    for (int64_t ow = sp.lo; ow < sp.hi; ++ow) gx[xo + ow * s] += col[co + ow];
  });
}


// Splits the batch over threads when it has at least one sample per thread (each GEMM
// then runs on one thread); otherwise one chunk, so that the GEMMs use the threads.
int64_t sample_chunks(int64_t N) {
  const int64_t threads = omp_in_parallel() ? 1 : omp_get_max_threads();
  return N >= threads ? threads : 1;
}

// fn(chunk, n, scratch) for every sample n, chunk by chunk in parallel; each chunk has a
// scratch buffer of scratch_size floats.
template <class Fn>
void for_samples(int64_t N, int64_t chunks, int64_t scratch_size, const Fn& fn) {
  parallel_for(chunks, 1, [&](int64_t cb, int64_t ce) {
    std::unique_ptr<float[]> scratch(scratch_size ? new float[scratch_size] : nullptr);
    for (int64_t c = cb; c < ce; ++c)
      for (int64_t n = N * c / chunks; n < N * (c + 1) / chunks; ++n) fn(c, n, scratch.get());
  });
}

void conv(const float* x, const float* w, const float* b, float* y, const ConvGeometry& g) {
  const ConvLowering lw(g);
  const int64_t x_size = g.C_in * g.H * g.W, y_size = g.C_out * lw.P;
  auto& gemm = kernels::gemm[Device::cpu];
  for_samples(g.N, sample_chunks(g.N), lw.col_floats, [&](int64_t, int64_t n, float* col) {
    const float* xn = x + n * x_size;
    float* yn = y + n * y_size;
    if (!lw.identity) im2col(xn, col, g);
    if (b)
      for (int64_t c = 0; c < g.C_out; ++c) std::fill(yn + c * lw.P, yn + (c + 1) * lw.P, b[c]);
    const float* cols = lw.identity ? xn : col;
    gemm(false, false, lw.Co, lw.P, lw.Ck, 1.0f, w, lw.Co * lw.Ck, cols, lw.Ck * lw.P,
         b ? 1.0f : 0.0f, yn, lw.Co * lw.P, g.groups);
  });
}

// gw is summed over samples: each chunk of samples accumulates its own copy (chunk 0 in
// gw itself), and the copies are added at the end.
void conv_backward(const float* x, const float* w, const float* gy, float* gx, float* gw,
                   float* gb, const ConvGeometry& g) {
  const ConvLowering lw(g);
  if (gb) bias_grad(gy, gb, g.N, g.C_out, lw.P);
  if (!gx && !gw) return;
  const int64_t x_size = g.C_in * g.H * g.W, y_size = g.C_out * lw.P;
  const int64_t w_size = g.C_out * lw.Ck, chunks = sample_chunks(g.N);
  std::vector<float> partial(gw ? (chunks - 1) * w_size : 0);
  if (gw) std::fill(gw, gw + w_size, 0.0f);
  auto& gemm = kernels::gemm[Device::cpu];
  for_samples(g.N, chunks, lw.col_floats, [&](int64_t chunk, int64_t n, float* col) {
    const float* gyn = gy + n * y_size;
    if (gw) {
      const float* xn = x + n * x_size;
      if (!lw.identity) im2col(xn, col, g);
      float* acc = chunk == 0 ? gw : partial.data() + (chunk - 1) * w_size;
      // gw_g [Co, Ck] += gy_g [Co, P] @ col_g^T
      gemm(false, true, lw.Co, lw.Ck, lw.P, 1.0f, gyn, lw.Co * lw.P, lw.identity ? xn : col,
           lw.Ck * lw.P, 1.0f, acc, w_size / g.groups, g.groups);
    }
    if (gx) {
      float* gxn = gx + n * x_size;
      // col_g [Ck, P] = w_g^T @ gy_g, then scattered back onto the input.
      gemm(true, false, lw.Ck, lw.P, lw.Co, 1.0f, w, lw.Co * lw.Ck, gyn, lw.Co * lw.P, 0.0f,
           lw.identity ? gxn : col, lw.Ck * lw.P, g.groups);
      if (!lw.identity) col2im(col, gxn, g);
    }
  });
  if (gw)
    for (int64_t c = 1; c < chunks; ++c) add_into(gw, partial.data() + (c - 1) * w_size, w_size);
}

// ---- Depthwise 1-D: one correlation per (sample, channel) row ----

constexpr int64_t kOutTile = 64;  // outputs kept in registers across the taps (8 AVX registers)
constexpr int64_t kTapTile = 32;  // taps kept in registers across the positions

// A row's sizes. Work buffers hold a padded row (input or output gradient) and kTapTile
// floats of slack for the tiled weight gradient.
struct Row {
  int64_t L, K, L_out, stride, pad, dil, buf_len;

  explicit Row(const ConvGeometry& g)
      : L(g.W), K(g.KW), L_out(g.W_out), stride(g.stride_w), pad(g.pad_w), dil(g.dil_w),
        buf_len(std::max(L + 2 * pad, L + dil * (K - 1)) + kTapTile) {}
};

// dst [len] = src [n] moved right by `shift` (left when negative), zeros elsewhere.
void shifted_row(const float* src, int64_t n, int64_t shift, float* dst, int64_t len) {
  const int64_t b = std::clamp<int64_t>(shift, 0, len);
  const int64_t e = std::clamp<int64_t>(shift + n, b, len);
  std::fill(dst, dst + b, 0.0f);
  std::copy(src + (b - shift), src + (e - shift), dst + b);
  std::fill(dst + e, dst + len, 0.0f);
}

// y[j] = init + sum_k w[k] * src[j + k * dil] for j in [0, Tile); the Tile accumulators
// stay in registers across the taps.
template <int64_t Tile>
void correlate_tile(const float* src, const float* w, float init, float* y, int64_t K,
                    int64_t dil) {
  float acc[Tile];
  for (int64_t j = 0; j < Tile; ++j) acc[j] = init;
  for (int64_t k = 0; k < K; ++k) {
    const float wk = w[k];
    const float* in = src + k * dil;
    for (int64_t j = 0; j < Tile; ++j) acc[j] += wk * in[j];
  }
  for (int64_t j = 0; j < Tile; ++j) y[j] = acc[j];
}

// correlate_tile over [0, T) (T >= Tile) in whole tiles; the last one is moved back to
// end at T, overlapping its predecessor (which writes the same values).
template <int64_t Tile>
void correlate_tiles(const float* src, const float* w, float init, float* y, int64_t T,
                     int64_t K, int64_t dil) {
  for (int64_t t = 0; t < T; t += Tile) {
    const int64_t s = std::min(t, T - Tile);
    correlate_tile<Tile>(src + s, w, init, y + s, K, dil);
  }
}

// y[t] = init + sum_k w[k] * src[t * stride + k * dil] for t in [0, T).
void correlate(const float* src, const float* w, float init, float* y, int64_t T, int64_t K,
               int64_t stride, int64_t dil) {
  if (stride == 1 && T >= kOutTile) return correlate_tiles<kOutTile>(src, w, init, y, T, K, dil);
  if (stride == 1 && T >= 8) return correlate_tiles<8>(src, w, init, y, T, K, dil);
  for (int64_t t = 0; t < T; ++t) {
    float s = init;
    for (int64_t k = 0; k < K; ++k) s += w[k] * src[t * stride + k * dil];
    y[t] = s;
  }
}

// acc[j] = sum_t gy[t] * src[t + j] for j in [0, kTapTile): taps along the registers, two
// positions t at a time into independent accumulators.
void weight_grad_tile(const float* src, const float* gy, int64_t T, float* acc) {
  float a[kTapTile] = {}, b[kTapTile] = {};
  int64_t t = 0;
  for (; t + 2 <= T; t += 2) {
    const float g0 = gy[t], g1 = gy[t + 1];
    for (int64_t j = 0; j < kTapTile; ++j) a[j] += g0 * src[t + j];
    for (int64_t j = 0; j < kTapTile; ++j) b[j] += g1 * src[t + 1 + j];
  }
  for (; t < T; ++t)
    for (int64_t j = 0; j < kTapTile; ++j) a[j] += gy[t] * src[t + j];
  for (int64_t j = 0; j < kTapTile; ++j) acc[j] = a[j] + b[j];
}

// gw[k] += sum_t gy[t] * xp[t * stride + k * dil] over a padded input row xp. Unit stride
// and dilation take kTapTile taps at a time, reading into the buffer's slack past the row.
void weight_grad_row(const float* xp, const float* gy, float* gw, const Row& r) {
  if (r.stride == 1 && r.dil == 1) {
    float acc[kTapTile];
    for (int64_t k0 = 0; k0 < r.K; k0 += kTapTile) {
      weight_grad_tile(xp + k0, gy, r.L_out, acc);
      for (int64_t j = 0; j < std::min(kTapTile, r.K - k0); ++j) gw[k0 + j] += acc[j];
    }
    return;
  }
  for (int64_t k = 0; k < r.K; ++k) {
    float s = 0;
    for (int64_t t = 0; t < r.L_out; ++t) s += gy[t] * xp[t * r.stride + k * r.dil];
    gw[k] += s;
  }
}

// gx [L] from gy [L_out]. Unit stride correlates gy, shifted right by dil*(K-1) - pad, with
// the flipped taps; other strides scatter each output back onto the inputs it read.
void input_grad_row(const float* w, const float* w_flipped, const float* gy, float* buf,
                    float* gx, const Row& r) {
  if (r.stride == 1) {
    shifted_row(gy, r.L_out, r.dil * (r.K - 1) - r.pad, buf, r.buf_len);
    correlate(buf, w_flipped, 0.0f, gx, r.L, r.K, 1, r.dil);
    return;
  }
  std::fill(buf, buf + r.buf_len, 0.0f);  // gradient of the padded input row
  for (int64_t k = 0; k < r.K; ++k)
    for (int64_t t = 0; t < r.L_out; ++t) buf[t * r.stride + k * r.dil] += w[k] * gy[t];
  std::copy(buf + r.pad, buf + r.pad + r.L, gx);
}

void depthwise_conv1d(const float* x, const float* w, const float* b, float* y,
                      const ConvGeometry& g) {
  const Row r(g);
  const int64_t C = g.C_out;
  parallel_for(g.N * C, rows_per_task(r.L_out * r.K), [&](int64_t beg, int64_t end) {
    std::vector<float> xp(r.buf_len);
    for (int64_t row = beg; row < end; ++row) {
      const int64_t c = row % C;
      shifted_row(x + row * r.L, r.L, r.pad, xp.data(), r.buf_len);
      correlate(xp.data(), w + c * r.K, b ? b[c] : 0.0f, y + row * r.L_out, r.L_out, r.K,
                r.stride, r.dil);
    }
  });
}

// Parallel over channels: each thread owns its channels' gw and gb and sums over samples.
void depthwise_conv1d_backward(const float* x, const float* w, const float* gy, float* gx,
                               float* gw, float* gb, const ConvGeometry& g) {
  const Row r(g);
  const int64_t C = g.C_out;
  parallel_for(C, rows_per_task(g.N * r.L_out * r.K), [&](int64_t beg, int64_t end) {
    std::vector<float> buf(r.buf_len), w_flipped(r.K);
    for (int64_t c = beg; c < end; ++c) {
      if (gx) std::reverse_copy(w + c * r.K, w + (c + 1) * r.K, w_flipped.begin());
      if (gw) std::fill(gw + c * r.K, gw + (c + 1) * r.K, 0.0f);
      if (gb) gb[c] = 0;
      for (int64_t n = 0; n < g.N; ++n) {
        const int64_t row = n * C + c;
        const float* gyr = gy + row * r.L_out;
        if (gw) {
          shifted_row(x + row * r.L, r.L, r.pad, buf.data(), r.buf_len);
          weight_grad_row(buf.data(), gyr, gw + c * r.K, r);
        }
        if (gx)
          input_grad_row(w + c * r.K, w_flipped.data(), gyr, buf.data(), gx + row * r.L, r);
        if (gb) gb[c] += sum_of(gyr, r.L_out);
      }
    }
  });
}

}  // namespace
}  // namespace ag::cpu

namespace ag::kernels {
KernelTable<ConvFn> conv{"conv", {&cpu::conv, nullptr}};
KernelTable<ConvBackwardFn> conv_backward{"conv_backward", {&cpu::conv_backward, nullptr}};
KernelTable<ConvFn> depthwise_conv1d{"depthwise_conv1d", {&cpu::depthwise_conv1d, nullptr}};
KernelTable<ConvBackwardFn> depthwise_conv1d_backward{"depthwise_conv1d_backward",
                                                      {&cpu::depthwise_conv1d_backward, nullptr}};
}  // namespace ag::kernels
