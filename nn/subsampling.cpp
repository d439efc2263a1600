#include "subsampling.h"

#include "autograd/ops.h"

namespace nn {

Conv2dSubsampling::Convs::Convs(int64_t d_model) {
  conv0 = register_module("0", std::make_shared<Conv2d>(1, d_model, 3, 2));
  conv2 = register_module("2", std::make_shared<Conv2d>(d_model, d_model, 3, 2));
}

Conv2dSubsampling::Conv2dSubsampling(int64_t input_dim, int64_t d_model) : input_dim(input_dim) {
  const int64_t freq = output_length(input_dim);
  AG_CHECK(freq >= 1, "Conv2dSubsampling: input_dim ", input_dim, " leaves no frequency bin after ",
           "4x subsampling (needs at least ", kMinFrames, ")");
  conv = register_module("conv", std::make_shared<Convs>(d_model));
  out = register_module("out", std::make_shared<ModuleList<Linear>>());
  out->push_back(std::make_shared<Linear>(d_model * freq, d_model));
}

Tensor Conv2dSubsampling::forward(const Tensor& x) const {
  AG_CHECK(x.dim() == 3 && x.size(2) == input_dim, "Conv2dSubsampling: input ",
           ag::shape_str(x.shape()), " must be [B, T, ", input_dim, "]");
  AG_CHECK(x.size(1) >= kMinFrames, "Conv2dSubsampling: input ", ag::shape_str(x.shape()),
           " has ", x.size(1), " frames; 4x subsampling needs at least ", kMinFrames);
  const int64_t B = x.size(0);
  Tensor h = ag::reshape(x, {B, 1, x.size(1), input_dim});  // [B, 1, T, F]
  h = ag::relu(conv->conv0->forward(h));                    // [B, d, T1, F1]
  h = ag::relu(conv->conv2->forward(h));                    // [B, d, T', F']
  const int64_t d = h.size(1), T = h.size(2), F = h.size(3);
  h = ag::reshape(ag::transpose(h, 1, 2), {B, T, d * F});   // [B, T', d * F']
  return (*out)[0].forward(h);                              // [B, T', d]
}

}  // namespace nn
