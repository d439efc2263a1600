#include "norm.h"

#include "../autograd.h"
#include "../copy.h"
#include "../kernels/norm.h"
#include "binary.h"
#include "elementwise_impl.h"
#include "unary.h"

namespace ag {
namespace {

float* data_or_null(const Tensor& t) { return t.defined() ? t.data() : nullptr; }

// `t`, when defined, is a float32 vector [size] on `device`.
void check_param(const Tensor& t, int64_t size, Device device, const char* op, const char* what,
                 const Tensor& x) {
  if (!t.defined()) return;
  detail::check_float(t, op);
  AG_CHECK(t.dim() == 1 && t.shape()[0] == size, op, ": ", what, " ", shape_str(t.shape()),
           " for input ", shape_str(x.shape()), " (expected [", size, "])");
  AG_CHECK(t.device() == device, op, ": ", what, " on ", device_name(t.device()),
           ", input on ", device_name(device));
}

Tensor empty_if(bool needed, const Shape& shape, Device device) {
  return needed ? empty(shape, DType::f32, device) : Tensor();
}

}  // namespace

Tensor layer_norm(const Tensor& x, const Tensor& weight, const Tensor& bias, float eps) {
  detail::check_float(x, "layer_norm");
  AG_CHECK(x.dim() >= 1, "layer_norm: input ", shape_str(x.shape()), " has no dim to normalize");
  const int64_t D = x.shape().back();
  const int64_t rows = D > 0 ? x.numel() / D : 0;
  check_param(weight, D, x.device(), "layer_norm", "weight", x);
  check_param(bias, D, x.device(), "layer_norm", "bias", x);
  Tensor y = empty_like(x);
  Tensor mean = empty({rows}, DType::f32, x.device());
  Tensor rstd = empty({rows}, DType::f32, x.device());
  kernels::layer_norm[x.device()](x.data(), data_or_null(weight), data_or_null(bias), y.data(),
                                  mean.data(), rstd.data(), rows, D, eps);
  Tensor w = weight.defined() ? weight.detach() : Tensor();
  return attach(y, "layer_norm", {x, weight, bias}, {{"input", x}, {"weight", weight}},
                [x = x.detach(), w, mean, rstd, rows, D](const Tensor& g, const Needs& n) {
                  Tensor gx = empty_if(n[0], x.shape(), g.device());
                  Tensor gw = empty_if(n[1], {D}, g.device());
                  Tensor gb = empty_if(n[2], {D}, g.device());
                  kernels::layer_norm_backward[g.device()](
                      x.data(), g.data(), data_or_null(w), mean.data(), rstd.data(),
                      data_or_null(gx), data_or_null(gw), data_or_null(gb), rows, D);
                  return std::vector<Tensor>{gx, gw, gb};
                });
}

Tensor batch_norm(const Tensor& x, const Tensor& weight, const Tensor& bias,
                  const Tensor& running_mean, const Tensor& running_var, bool training,
                  float momentum, float eps) {
  detail::check_float(x, "batch_norm");
  AG_CHECK(x.dim() == 2 || x.dim() == 3, "batch_norm: input ", shape_str(x.shape()),
           " is not [N, C] or [N, C, L]");
  const int64_t N = x.shape()[0], C = x.shape()[1], L = x.dim() == 3 ? x.shape()[2] : 1;
  check_param(weight, C, x.device(), "batch_norm", "weight", x);
  check_param(bias, C, x.device(), "batch_norm", "bias", x);
  check_param(running_mean, C, x.device(), "batch_norm", "running_mean", x);
  check_param(running_var, C, x.device(), "batch_norm", "running_var", x);
  Tensor mean, invstd;
  if (training) {
    AG_CHECK(N * L > 1, "batch_norm: input ", shape_str(x.shape()),
             " has one value per channel; training needs more");
    mean = empty({C}, DType::f32, x.device());
    invstd = empty({C}, DType::f32, x.device());
    kernels::batch_norm_stats[x.device()](x.data(), mean.data(), invstd.data(),
                                          data_or_null(running_mean), data_or_null(running_var),
                                          N, C, L, momentum, eps);
    for (const Tensor& r : {running_mean, running_var})
      if (r.defined()) r.mark_modified();
  } else {
    AG_CHECK(running_mean.defined() && running_var.defined(), "batch_norm: input ",
             shape_str(x.shape()), ": eval mode needs running_mean and running_var");
    NoGradGuard no_grad;
    mean = running_mean.detach();  // saved: a training step before backward is caught
    invstd = rsqrt(add(running_var, eps));
  }
  Tensor y = empty_like(x);
  kernels::batch_norm[x.device()](x.data(), mean.data(), invstd.data(), data_or_null(weight),
                                  data_or_null(bias), y.data(), N, C, L);
  Tensor w = weight.defined() ? weight.detach() : Tensor();
  return attach(y, "batch_norm", {x, weight, bias},
                {{"input", x}, {"weight", weight}, {"running_mean", training ? Tensor() : mean}},
                [x = x.detach(), w, mean, invstd, training, N, C, L](const Tensor& g,
                                                                     const Needs& n) {
                  Tensor gx = empty_if(n[0], x.shape(), g.device());
                  Tensor gw = empty_if(n[1], {C}, g.device());
                  Tensor gb = empty_if(n[2], {C}, g.device());
                  kernels::batch_norm_backward[g.device()](
                      x.data(), g.data(), mean.data(), invstd.data(), data_or_null(w),
                      data_or_null(gx), data_or_null(gw), data_or_null(gb), N, C, L, training);
                  return std::vector<Tensor>{gx, gw, gb};
                });
}

}  // namespace ag
