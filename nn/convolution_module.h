// Conformer convolution module (ESPnet ConvolutionModule with Swish):
// pointwise_conv1 (d -> 2d) -> GLU -> zero padded frames -> depthwise_conv (kernel K,
// centred, or causal) -> norm (BatchNorm1d, or LayerNorm over channels as WeNet's
// cnn_module_norm: layer_norm for streaming models) -> Swish -> pointwise_conv2 (d -> d).
//
// Parameters keep PyTorch's Conv1d shapes; the pointwise convs run as linear layers on the
// channels-last [B, T, C] layout, so only the depthwise conv and the batch norm see
// [B, C, T]: one transpose pair per call.
#pragma once
#include <memory>
#include <string>

#include "conv.h"
#include "normalization.h"

namespace nn {

class ConvolutionModule : public Module {
 public:
  // kernel odd unless causal (causal: left padding kernel-1, no look-ahead); norm
  // "batch_norm" or "layer_norm".
  ConvolutionModule(int64_t d_model, int64_t kernel, bool causal,
                    const std::string& norm = "batch_norm");
  // x [B, T, d]; pad_mask [B, T, 1] uint8, 1 at padded frames (undefined: none), which are
  // zeroed before the depthwise conv so they never reach real frames -> [B, T, d].
  // Note that in training the batch norm's statistics still include padded frames, as ESPnet's.
  Tensor forward(const Tensor& x, const Tensor& pad_mask) const;
  // Streaming: x [B, T, d] the chunk's frames; cache [B, d, context] the depthwise conv's
  // left context (Conv1d::forward_chunk) -> [B, T, d]
  Tensor forward_chunk(const Tensor& x, Tensor& cache) const;

 private:
  // h [B, d, T] the depthwise conv's output -> Swish(norm(h)) [B, T, d]
  Tensor norm_activation(const Tensor& h) const;

 public:

  std::shared_ptr<Conv1d> pointwise_conv1;  // [2d, d, 1]
  std::shared_ptr<Conv1d> depthwise_conv;   // [d, 1, K], groups d
  std::shared_ptr<BatchNorm1d> norm;        // d, for "batch_norm" (else null)
  std::shared_ptr<LayerNorm> layer_norm;    // d, for "layer_norm" (else null); also named "norm"
  std::shared_ptr<Conv1d> pointwise_conv2;  // [d, d, 1]
};

}  // namespace nn
