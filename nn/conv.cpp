#include "conv.h"

#include "autograd/ops.h"
#include "init.h"

namespace nn {

Conv1d::Conv1d(int64_t in, int64_t out, int64_t kernel, Conv1dOptions options)
    : options(options) {
  AG_CHECK(in > 0 && out > 0 && kernel > 0, "Conv1d: in ", in, ", out ", out, ", kernel ",
           kernel, " must be positive");
  AG_CHECK(options.groups > 0 && in % options.groups == 0 && out % options.groups == 0,
           "Conv1d: groups ", options.groups, " must divide in ", in, " and out ", out);
  AG_CHECK(!options.causal || options.padding == 0, "Conv1d: causal conv with padding ",
           options.padding, " (causal pads kernel-1 on the left by itself)");
  const int64_t fan_in = in / options.groups * kernel;
  weight = register_parameter("weight", init::fan_in_uniform({out, in / options.groups, kernel}, fan_in));
  bias = register_parameter("bias", init::fan_in_uniform({out}, fan_in));
}

Tensor Conv1d::forward(const Tensor& x) const {
  const int64_t kernel = weight.size(2);
  Tensor in = options.causal && kernel > 1 ? ag::pad(x, {kernel - 1, 0}) : x;  // [N, in, L']
  return ag::conv1d(in, weight, bias, 1, options.padding, 1, options.groups);
}

Tensor Conv1d::forward_chunk(const Tensor& x, Tensor& cache) const {
  AG_CHECK(x.dim() == 3 && x.size(1) == weight.size(1) * options.groups, "Conv1d::forward_chunk: ",
           "input ", ag::shape_str(x.shape()), " is not [N, ", weight.size(1) * options.groups, ", T]");
  const int64_t kernel = weight.size(2);
  const int64_t left = options.causal ? kernel - 1 : options.padding;
  const int64_t right = options.causal ? 0 : options.padding;
  if (!cache.defined()) cache = ag::zeros({x.size(0), x.size(1), left}, ag::DType::f32, x.device());
  Tensor in = left > 0 ? ag::concat({cache, x}, 2) : x;         // [N, in, context + T]
  cache = ag::narrow(in, 2, in.size(2) - left, left);            // the last `left` frames
  if (right > 0) in = ag::pad(in, {0, right});                   // [N, in, context + T + right]
  return ag::conv1d(in, weight, bias, 1, 0, 1, options.groups);  // [N, out, T]
}

Tensor Conv1d::forward_pointwise(const Tensor& x) const {
  AG_CHECK(weight.size(2) == 1 && options.groups == 1, "Conv1d::forward_pointwise: weight ",
           ag::shape_str(weight.shape()), " with groups ", options.groups,
           " is not a pointwise conv");
  return ag::linear(x, ag::reshape(weight, {weight.size(0), weight.size(1)}), bias);
}

Conv2d::Conv2d(int64_t in, int64_t out, int64_t kernel, int64_t stride) : stride(stride) {
  AG_CHECK(in > 0 && out > 0 && kernel > 0 && stride > 0, "Conv2d: in ", in, ", out ", out,
           ", kernel ", kernel, ", stride ", stride, " must be positive");
  const int64_t fan_in = in * kernel * kernel;
  weight = register_parameter("weight", init::fan_in_uniform({out, in, kernel, kernel}, fan_in));
  bias = register_parameter("bias", init::fan_in_uniform({out}, fan_in));
}

Tensor Conv2d::forward(const Tensor& x) const {
  return ag::conv2d(x, weight, bias, {stride, stride}, {0, 0});
}

}  // namespace nn
