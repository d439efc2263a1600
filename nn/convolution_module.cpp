#include "convolution_module.h"

#include "autograd/ops.h"

namespace nn {

ConvolutionModule::ConvolutionModule(int64_t d_model, int64_t kernel, bool causal,
                                     const std::string& norm_type) {
  AG_CHECK(causal || kernel % 2 == 1, "ConvolutionModule: kernel ", kernel,
           " must be odd for centred ('same') padding");
  AG_CHECK(norm_type == "batch_norm" || norm_type == "layer_norm", "ConvolutionModule: norm '",
           norm_type, "' is not batch_norm or layer_norm");
  pointwise_conv1 = register_module("pointwise_conv1", std::make_shared<Conv1d>(d_model, 2 * d_model, 1));
  Conv1dOptions depthwise{causal ? 0 : (kernel - 1) / 2, d_model, causal};
  depthwise_conv = register_module("depthwise_conv",
                                   std::make_shared<Conv1d>(d_model, d_model, kernel, depthwise));
  if (norm_type == "batch_norm")
    norm = register_module("norm", std::make_shared<BatchNorm1d>(d_model));
  else
    layer_norm = register_module("norm", std::make_shared<LayerNorm>(d_model));
  pointwise_conv2 = register_module("pointwise_conv2", std::make_shared<Conv1d>(d_model, d_model, 1));
}

Tensor ConvolutionModule::forward(const Tensor& x, const Tensor& pad_mask) const {
  Tensor h = ag::glu(pointwise_conv1->forward_pointwise(x), -1);  // [B, T, d]
  if (pad_mask.defined()) h = ag::masked_fill(h, pad_mask, 0.0f);
  h = depthwise_conv->forward(ag::transpose(h, 1, 2));            // [B, d, T]
  return pointwise_conv2->forward_pointwise(norm_activation(h));  // [B, T, d]
}

Tensor ConvolutionModule::forward_chunk(const Tensor& x, Tensor& cache) const {
  Tensor h = ag::glu(pointwise_conv1->forward_pointwise(x), -1);      // [B, T, d]
  h = depthwise_conv->forward_chunk(ag::transpose(h, 1, 2), cache);   // [B, d, T]
  return pointwise_conv2->forward_pointwise(norm_activation(h));      // [B, T, d]
}

Tensor ConvolutionModule::norm_activation(const Tensor& h) const {
  if (norm) return ag::transpose(ag::silu(norm->forward(h)), 1, 2);  // [B, T, d]
  return ag::silu(layer_norm->forward(ag::transpose(h, 1, 2)));      // [B, T, d]
}

}  // namespace nn
