// Convolution kernels: grouped, strided, dilated 2-D cross-correlation (conv1d is its
// H = 1 case) and a direct depthwise 1-D kernel.
#pragma once
#include <cstdint>

#include "../dispatch.h"

namespace ag::kernels {

// Sizes of a convolution; conv1d has H = KH = H_out = 1, stride_h = dil_h = 1, pad_h = 0.
// x [N, C_in, H, W], w [C_out, C_in/groups, KH, KW], b [C_out], y [N, C_out, H_out, W_out].
struct ConvGeometry {
  int64_t N, C_in, C_out, groups;
  int64_t H, W, KH, KW, H_out, W_out;
  int64_t stride_h, stride_w, pad_h, pad_w, dil_h, dil_w;
};

// GEMM sizes of one sample, as both backends lower it: per group,
// y_g [Co, P] = w_g [Co, Ck] @ col_g [Ck, P], col_g the im2col columns.
struct ConvLowering {
  int64_t Co, Ck, P;
  bool identity;       // 1x1 kernel, stride 1, no padding: the columns are the input itself
  int64_t col_floats;  // one sample's columns, groups * Ck * P (0 when identity)

  explicit ConvLowering(const ConvGeometry& g)
      : Co(g.C_out / g.groups),
        Ck(g.C_in / g.groups * g.KH * g.KW),
        P(g.H_out * g.W_out),
        identity(g.KH == 1 && g.KW == 1 && g.stride_h == 1 && g.stride_w == 1 && g.pad_h == 0 &&
                 g.pad_w == 0),
        col_floats(identity ? 0 : g.groups * Ck * P) {}
};

// y = conv(x, w) + b; b may be null (no bias).
using ConvFn = void(const float* x, const float* w, const float* b, float* y,
                    const ConvGeometry& g);
// Gradients from gy [N, C_out, H_out, W_out]. Each of gx, gw, gb may be null (not wanted);
// the others are overwritten. x is read only for gw and w only for gx, so either may be
// null when its reader is.
using ConvBackwardFn = void(const float* x, const float* w, const float* gy, float* gx,
                            float* gw, float* gb, const ConvGeometry& g);

// Any geometry: im2col + GEMM per sample and group.
extern KernelTable<ConvFn> conv;
extern KernelTable<ConvBackwardFn> conv_backward;
// Depthwise 1-D only (H == 1, groups == C_in == C_out): direct loops.
extern KernelTable<ConvFn> depthwise_conv1d;
extern KernelTable<ConvBackwardFn> depthwise_conv1d_backward;

}  // namespace ag::kernels
