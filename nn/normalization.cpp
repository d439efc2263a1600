#include "normalization.h"

#include "autograd/copy.h"
#include "autograd/ops.h"

namespace nn {

namespace {
// counter [] int64 += 1 where it lives: in place on the CPU; elsewhere an 8-byte read and
// write (two waits for the device's stream per training forward of a BatchNorm).
void count_batch(const Tensor& counter) {
  if (counter.device() == ag::Device::cpu) {
    ++counter.data_as<int64_t>()[0];
    counter.mark_modified();
    return;
  }
  ag::copy_(counter, ag::from_int_vector({counter.to_int_vector()[0] + 1}, {}));
}
}  // namespace

LayerNorm::LayerNorm(int64_t dim, float eps) : eps(eps) {
  weight = register_parameter("weight", ag::ones({dim}));
  bias = register_parameter("bias", ag::zeros({dim}));
}

Tensor LayerNorm::forward(const Tensor& x) const { return ag::layer_norm(x, weight, bias, eps); }

BatchNorm1d::BatchNorm1d(int64_t channels, float eps, float momentum) : eps(eps), momentum(momentum) {
  weight = register_parameter("weight", ag::ones({channels}));
  bias = register_parameter("bias", ag::zeros({channels}));
  running_mean = register_buffer("running_mean", ag::zeros({channels}));
  running_var = register_buffer("running_var", ag::ones({channels}));
  num_batches_tracked = register_buffer("num_batches_tracked", ag::zeros({}, ag::DType::i64));
}

Tensor BatchNorm1d::forward(const Tensor& x) const {
  if (is_training()) count_batch(num_batches_tracked);
  return ag::batch_norm(x, weight, bias, running_mean, running_var, is_training(), momentum, eps);
}

}  // namespace nn
