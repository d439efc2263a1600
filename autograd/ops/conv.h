// Convolutions: cross-correlation with PyTorch's conv1d / conv2d semantics.
#pragma once
#include <array>

#include "../tensor.h"

namespace ag {

// x [N, C_in, L], weight [C_out, C_in/groups, K], bias [C_out] or undefined
// -> [N, C_out, L_out], L_out = (L + 2*padding - dilation*(K-1) - 1) / stride + 1.
// Depthwise (groups == C_in == C_out) runs a direct kernel, the rest im2col + GEMM.
Tensor conv1d(const Tensor& x, const Tensor& weight, const Tensor& bias, int64_t stride = 1,
              int64_t padding = 0, int64_t dilation = 1, int64_t groups = 1);

// x [N, C_in, H, W], weight [C_out, C_in, KH, KW], bias [C_out] or undefined
// -> [N, C_out, H_out, W_out], each output size as conv1d's with dilation 1.
Tensor conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias,
              std::array<int64_t, 2> stride = {1, 1}, std::array<int64_t, 2> padding = {0, 0});

}  // namespace ag
