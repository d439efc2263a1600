#include "conv.h"

#include <string>

#include "../autograd.h"
#include "../kernels/conv.h"
#include "elementwise_impl.h"

namespace ag {
namespace {
using kernels::ConvGeometry;
using Pair = std::array<int64_t, 2>;  // (height, width); conv1d uses the width only

// One call's settings. conv1d passes {1, s}, {0, p}, {1, d}.
struct ConvSpec {
  const char* op;
  int64_t dims;  // spatial dims: 1 or 2
  const char* x_layout;
  const char* w_layout;
  Pair stride, padding, dilation;
  int64_t groups;
};

// A per-dim setting as the user wrote it: "3" for conv1d, "[3,3]" for conv2d.
std::string dims_str(const Pair& v, int64_t dims) {
  return dims == 1 ? std::to_string(v[1]) : shape_str({v[0], v[1]});
}

// The spatial sizes of x or weight as (height, width); height 1 for conv1d.
Pair spatial(const Tensor& t, int64_t dims) {
  return {dims == 2 ? t.shape()[2] : 1, t.shape().back()};
}

void check_settings(const ConvSpec& s) {
  for (int i = 2 - s.dims; i < 2; ++i) {
    AG_CHECK(s.stride[i] >= 1, s.op, ": stride ", dims_str(s.stride, s.dims),
             " must be positive");
    AG_CHECK(s.padding[i] >= 0, s.op, ": padding ", dims_str(s.padding, s.dims),
             " must be non-negative");
    AG_CHECK(s.dilation[i] >= 1, s.op, ": dilation ", dims_str(s.dilation, s.dims),
             " must be positive");
  }
  AG_CHECK(s.groups >= 1, s.op, ": groups ", s.groups, " must be positive");
}

void check_channels(const Tensor& x, const Tensor& w, const Tensor& b, const ConvSpec& s) {
  const int64_t C_in = x.shape()[1], C_out = w.shape()[0], G = s.groups;
  AG_CHECK(C_in % G == 0, s.op, ": input ", shape_str(x.shape()), " has ", C_in,
           " channels, not divisible by groups ", G);
  AG_CHECK(C_out % G == 0, s.op, ": weight ", shape_str(w.shape()), " has ", C_out,
           " output channels, not divisible by groups ", G);
  AG_CHECK(C_in == w.shape()[1] * G, s.op, ": input ", shape_str(x.shape()), " has ", C_in,
           " channels, weight ", shape_str(w.shape()), " expects ", w.shape()[1] * G,
           " (groups ", G, ")");
  if (b.defined())
    AG_CHECK(b.dim() == 1 && b.shape()[0] == C_out, s.op, ": bias ", shape_str(b.shape()),
             " does not match weight ", shape_str(w.shape()), " (expects [", C_out, "])");
}

// Checks the operands against `s` and returns the sizes the kernels need.
ConvGeometry check_conv(const Tensor& x, const Tensor& w, const Tensor& b, const ConvSpec& s) {
  detail::check_float(x, s.op);
  detail::check_float(w, s.op);
  if (b.defined()) detail::check_float(b, s.op);
  AG_CHECK(x.dim() == s.dims + 2, s.op, ": input ", shape_str(x.shape()), " must be ",
           s.x_layout);
  AG_CHECK(w.dim() == s.dims + 2, s.op, ": weight ", shape_str(w.shape()), " must be ",
           s.w_layout);
  AG_CHECK(x.device() == w.device() && (!b.defined() || b.device() == x.device()), s.op,
           ": input on ", device_name(x.device()), ", weight on ", device_name(w.device()),
           b.defined() ? ", bias on " : "", b.defined() ? device_name(b.device()) : "");
  check_settings(s);
  check_channels(x, w, b, s);
  const Pair in = spatial(x, s.dims), k = spatial(w, s.dims);
  Pair span, padded, out;
  for (int i = 0; i < 2; ++i) {
    AG_CHECK(k[i] >= 1, s.op, ": weight ", shape_str(w.shape()), " has an empty kernel");
    span[i] = s.dilation[i] * (k[i] - 1) + 1;
    padded[i] = in[i] + 2 * s.padding[i];
    out[i] = (padded[i] - span[i]) / s.stride[i] + 1;
  }
  AG_CHECK(span[0] <= padded[0] && span[1] <= padded[1], s.op, ": kernel ",
           dims_str(k, s.dims), " with dilation ", dims_str(s.dilation, s.dims), " spans ",
           dims_str(span, s.dims), ", more than the padded input ", dims_str(padded, s.dims),
           " (input ", shape_str(x.shape()), ", padding ", dims_str(s.padding, s.dims), ")");
  return ConvGeometry{x.shape()[0], x.shape()[1], w.shape()[0], s.groups,
                      in[0], in[1], k[0], k[1], out[0], out[1],
                      s.stride[0], s.stride[1], s.padding[0], s.padding[1],
                      s.dilation[0], s.dilation[1]};
}

float* data_or_null(const Tensor& t) { return t.defined() ? t.data() : nullptr; }

Tensor conv_op(const ConvSpec& s, const Tensor& x, const Tensor& w, const Tensor& b) {
  const ConvGeometry g = check_conv(x, w, b, s);
  const bool depthwise = s.dims == 1 && g.groups == g.C_in && g.C_out == g.C_in;
  const auto& forward = depthwise ? kernels::depthwise_conv1d : kernels::conv;
  const auto* backward = depthwise ? &kernels::depthwise_conv1d_backward : &kernels::conv_backward;
  Shape out_shape{g.N, g.C_out};
  if (s.dims == 2) out_shape.push_back(g.H_out);
  out_shape.push_back(g.W_out);
  Tensor y = empty(out_shape, DType::f32, x.device());
  forward[x.device()](x.data(), w.data(), data_or_null(b), y.data(), g);
  // The weight gradient reads x and the input gradient reads w: keep each only if needed.
  Tensor xs = w.requires_grad() ? x.detach() : Tensor();
  Tensor ws = x.requires_grad() ? w.detach() : Tensor();
  return attach(y, s.op, {x, w, b}, {{"input", xs}, {"weight", ws}},
                [backward, g, xs, ws, x_shape = x.shape(), w_shape = w.shape()](
                    const Tensor& gy, const Needs& n) {
                  const Device d = gy.device();
                  Tensor gx = n[0] ? empty(x_shape, DType::f32, d) : Tensor();
                  Tensor gw = n[1] ? empty(w_shape, DType::f32, d) : Tensor();
                  Tensor gb = n[2] ? empty({g.C_out}, DType::f32, d) : Tensor();
                  (*backward)[d](data_or_null(xs), data_or_null(ws), gy.data(),
                                 data_or_null(gx), data_or_null(gw), data_or_null(gb), g);
                  return std::vector<Tensor>{gx, gw, gb};
                });
}

}  // namespace

Tensor conv1d(const Tensor& x, const Tensor& weight, const Tensor& bias, int64_t stride,
              int64_t padding, int64_t dilation, int64_t groups) {
  return conv_op({"conv1d", 1, "[N, C_in, L]", "[C_out, C_in/groups, K]", {1, stride},
                  {0, padding}, {1, dilation}, groups},
                 x, weight, bias);
}

Tensor conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias,
              std::array<int64_t, 2> stride, std::array<int64_t, 2> padding) {
  return conv_op({"conv2d", 2, "[N, C_in, H, W]", "[C_out, C_in, KH, KW]", stride, padding,
                  {1, 1}, 1},
                 x, weight, bias);
}

}  // namespace ag
