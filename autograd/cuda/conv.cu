// CUDA convolution: every sample is lowered to cuBLAS GEMMs over an im2col buffer (one
// strided-batched GEMM over the groups), as the CPU's general case does. col2im gathers
// (each input element sums the columns that read it), so it needs no atomics. Depthwise
// 1-D convolution takes the same path for now (its geometry is a special case).
#include "../kernels/conv.h"
#include "../kernels/matmul.h"
#include "check.h"
#include "launch.cuh"
#include "register.h"
#include "scratch.h"
#include "stream.h"

namespace ag::cuda {
namespace {
using kernels::ConvGeometry;
using kernels::ConvLowering;


// col [C_in*KH*KW, H_out*W_out] from one sample x [C_in, H, W]; 0 where a tap meets padding.
__global__ void im2col_kernel(const float* x, float* col, ConvGeometry g) {
  const int64_t P = g.H_out * g.W_out;
  AG_GRID_LOOP(e, g.C_in * g.KH * g.KW * P) {
    const int64_t p = e % P, r = e / P;
    const int64_t kw = r % g.KW, kh = r / g.KW % g.KH, c = r / (g.KW * g.KH);
    const int64_t ih = p / g.W_out * g.stride_h + kh * g.dil_h - g.pad_h;
    const int64_t iw = p % g.W_out * g.stride_w + kw * g.dil_w - g.pad_w;
    col[e] = ih >= 0 && ih < g.H && iw >= 0 && iw < g.W ? x[(c * g.H + ih) * g.W + iw] : 0.0f;
  }
}

// Output index o along one axis whose tap k reads input i, or -1: i = o * s + k * d - pad.
__device__ inline int64_t output_for(int64_t i, int64_t k, int64_t s, int64_t d, int64_t pad,
                                     int64_t out) {
  const int64_t t = i + pad - k * d;
  if (t < 0 || t % s != 0 || t / s >= out) return -1;
  return t / s;
}

// gx [C_in, H, W] = the sum of the columns of col [C_in*KH*KW, H_out*W_out] at their inputs.
__global__ void col2im_kernel(const float* col, float* gx, ConvGeometry g) {
  const int64_t P = g.H_out * g.W_out;
  AG_GRID_LOOP(e, g.C_in * g.H * g.W) {
    const int64_t iw = e % g.W, ih = e / g.W % g.H, c = e / (g.W * g.H);
    float s = 0.0f;
    for (int64_t kh = 0; kh < g.KH; ++kh) {
      const int64_t oh = output_for(ih, kh, g.stride_h, g.dil_h, g.pad_h, g.H_out);
      if (oh < 0) continue;
      for (int64_t kw = 0; kw < g.KW; ++kw) {
        const int64_t ow = output_for(iw, kw, g.stride_w, g.dil_w, g.pad_w, g.W_out);
        if (ow >= 0) s += col[((c * g.KH + kh) * g.KW + kw) * P + oh * g.W_out + ow];
      }
    }
    gx[e] = s;
  }
}

// y [N, C, P] = b[c] everywhere.
__global__ void fill_bias_kernel(const float* b, float* y, int64_t total, int64_t C,
                                 int64_t P) {
  AG_GRID_LOOP(e, total) y[e] = b[e / P % C];
}

// gb[c] = sum over n, p of gy [N, C, P]; one block per channel.
__global__ void bias_grad_kernel(const float* gy, float* gb, int64_t N, int64_t C, int64_t P) {
  __shared__ float shared[32];
  const int64_t c = blockIdx.x;
  float s = 0.0f;
  for (int64_t m = threadIdx.x; m < N * P; m += blockDim.x) s += gy[(m / P * C + c) * P + m % P];
  s = block_sum(s, shared);
  if (threadIdx.x == 0) gb[c] = s;
}

void im2col(const float* x, float* col, const ConvGeometry& g, int64_t size) {
  im2col_kernel<<<blocks_for(size), kThreads, 0, stream()>>>(x, col, g);
  AG_CUDA_CHECK_LAUNCH("im2col_kernel");
}

void conv(const float* x, const float* w, const float* b, float* y, const ConvGeometry& g) {
  const ConvLowering lw(g);
  const int64_t x_size = g.C_in * g.H * g.W, y_size = g.C_out * lw.P;
  if (g.N * y_size == 0) return;
  if (b) {
    fill_bias_kernel<<<blocks_for(g.N * y_size), kThreads, 0, stream()>>>(b, y, g.N * y_size,
                                                                          g.C_out, lw.P);
    AG_CUDA_CHECK_LAUNCH("fill_bias_kernel");
  }
  Scratch col(lw.identity ? 1 : lw.col_floats * sizeof(float));
  auto& gemm = kernels::gemm[Device::cuda];
  for (int64_t n = 0; n < g.N; ++n) {
    const float* xn = x + n * x_size;
    if (!lw.identity) im2col(xn, col.as<float>(), g, lw.col_floats);
    gemm(false, false, lw.Co, lw.P, lw.Ck, 1.0f, w, lw.Co * lw.Ck,
         lw.identity ? xn : col.as<float>(), lw.Ck * lw.P, b ? 1.0f : 0.0f, y + n * y_size,
         lw.Co * lw.P, g.groups);
  }
}

void conv_backward(const float* x, const float* w, const float* gy, float* gx, float* gw,
                   float* gb, const ConvGeometry& g) {
  const ConvLowering lw(g);
  cudaStream_t s = stream();
  if (gb && g.C_out > 0) {
    bias_grad_kernel<<<static_cast<unsigned>(g.C_out), row_threads(g.N * lw.P), 0, s>>>(
        gy, gb, g.N, g.C_out, lw.P);
    AG_CUDA_CHECK_LAUNCH("bias_grad_kernel");
  }
  if (!gx && !gw) return;
  const int64_t x_size = g.C_in * g.H * g.W, y_size = g.C_out * lw.P;
  const int64_t w_size = g.C_out * lw.Ck;
  if (gw) AG_CUDA_CHECK(cudaMemsetAsync(gw, 0, w_size * sizeof(float), s));
  Scratch col(lw.identity ? 1 : lw.col_floats * sizeof(float));
  auto& gemm = kernels::gemm[Device::cuda];
  for (int64_t n = 0; n < g.N; ++n) {
    const float* gyn = gy + n * y_size;
    if (gw) {
      const float* xn = x + n * x_size;
      if (!lw.identity) im2col(xn, col.as<float>(), g, lw.col_floats);
      // gw_g [Co, Ck] += gy_g [Co, P] @ col_g^T
      gemm(false, true, lw.Co, lw.Ck, lw.P, 1.0f, gyn, lw.Co * lw.P,
           lw.identity ? xn : col.as<float>(), lw.Ck * lw.P, 1.0f, gw, w_size / g.groups,
           g.groups);
    }
    if (gx) {
      float* gxn = gx + n * x_size;
      // col_g [Ck, P] = w_g^T @ gy_g, then gathered back onto the input.
      gemm(true, false, lw.Ck, lw.P, lw.Co, 1.0f, w, lw.Co * lw.Ck, gyn, lw.Co * lw.P, 0.0f,
           lw.identity ? gxn : col.as<float>(), lw.Ck * lw.P, g.groups);
      if (!lw.identity && x_size > 0) {
        col2im_kernel<<<blocks_for(x_size), kThreads, 0, s>>>(col.as<float>(), gxn, g);
        AG_CUDA_CHECK_LAUNCH("col2im_kernel");
      }
    }
  }
}

}  // namespace

void register_conv_kernels() {
  kernels::conv.set(Device::cuda, &conv);
  kernels::conv_backward.set(Device::cuda, &conv_backward);
  kernels::depthwise_conv1d.set(Device::cuda, &conv);
  kernels::depthwise_conv1d_backward.set(Device::cuda, &conv_backward);
}

}  // namespace ag::cuda
