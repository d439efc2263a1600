#include "copy.h"

#include "kernels/copy.h"

namespace ag {

void fill(const Tensor& t, float value) {
  kernels::fill[t.device()](t.data(), t.numel(), value);
}

void fill_bytes_zero(const Tensor& t) {
  kernels::memset_zero[t.device()](t.raw(), t.numel() * dtype_size(t.dtype()));
}

void copy_(const Tensor& dst, const Tensor& src) {
  AG_CHECK(dst.shape() == src.shape() && dst.dtype() == src.dtype(), "copy_: destination ",
           shape_str(dst.shape()), " ", dtype_name(dst.dtype()), ", source ",
           shape_str(src.shape()), " ", dtype_name(src.dtype()));
  size_t bytes = src.numel() * dtype_size(src.dtype());
  if (dst.device() == src.device()) {
    kernels::memcpy[dst.device()](dst.raw(), src.raw(), bytes);
  } else {
    Device gpu = dst.device() == Device::cpu ? src.device() : dst.device();
    kernels::transfer[gpu](dst.raw(), dst.device(), src.raw(), src.device(), bytes);
  }
}

Tensor to_device(const Tensor& t, Device d) {
  Tensor out = empty(t.shape(), t.dtype(), d);
  copy_(out, t);
  return out;
}

Tensor clone_data(const Tensor& t) { return to_device(t, t.device()); }

}  // namespace ag
