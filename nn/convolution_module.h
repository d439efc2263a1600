// Conformer convolution module (ESPnet ConvolutionModule with Swish):
// pointwise_conv1 (d -> 2d) -> GLU -> zero padded frames -> depthwise_conv (kernel K,
// centred, or causal) -> norm (BatchNorm1d) -> Swish -> pointwise_conv2 (d -> d).
//
// Parameters keep PyTorch's Conv1d shapes; the pointwise convs run as linear layers on the
// channels-last [B, T, C] layout, so only the depthwise conv and the batch norm see
// [B, C, T]: one transpose pair per call.
#pragma once
#include <memory>

#include "conv.h"
#include "normalization.h"

namespace nn {

class ConvolutionModule : public Module {
 public:
  // kernel odd unless causal (causal: left padding kernel-1, no look-ahead).
  ConvolutionModule(int64_t d_model, int64_t kernel, bool causal);
  // x [B, T, d]; pad_mask [B, T, 1] uint8, 1 at padded frames (undefined: none), which are
  // zeroed before the depthwise conv so they never reach real frames -> [B, T, d].
  // Note that in training the batch norm's statistics still include padded frames, as ESPnet's.
  Tensor forward(const Tensor& x, const Tensor& pad_mask) const;
  // Streaming: x [B, T, d] the chunk's frames; cache [B, d, context] the depthwise conv's
  // left context (Conv1d::forward_chunk) -> [B, T, d]
  Tensor forward_chunk(const Tensor& x, Tensor& cache) const;

  std::shared_ptr<Conv1d> pointwise_conv1;  // [2d, d, 1]
  std::shared_ptr<Conv1d> depthwise_conv;   // [d, 1, K], groups d
  std::shared_ptr<BatchNorm1d> norm;        // d
  std::shared_ptr<Conv1d> pointwise_conv2;  // [d, d, 1]
};

}  // namespace nn
