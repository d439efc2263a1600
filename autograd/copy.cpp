#include "copy.h"

#include "kernels/copy.h"

namespace ag {

void fill(const Tensor& t, float value) {
  kernels::fill[t.device()](t.data(), t.numel(), value);
  t.mark_modified();
}

void fill_bytes_zero(const Tensor& t) {
  kernels::memset_zero[t.device()](t.raw(), t.numel() * dtype_size(t.dtype()));
  t.mark_modified();
}

void copy_(const Tensor& dst, const Tensor& src) {
  AG_CHECK(dst.shape() == src.shape() && dst.dtype() == src.dtype(), "copy_: destination ",
           shape_str(dst.shape()), " ", dtype_name(dst.dtype()), ", source ",
           shape_str(src.shape()), " ", dtype_name(src.dtype()));
  copy_bytes(dst.raw(), dst.device(), src.raw(), src.device(),
             src.numel() * dtype_size(src.dtype()));
  dst.mark_modified();
}

void copy_bytes(void* dst, Device to, const void* src, Device from, size_t bytes) {
  if (to == from)
    kernels::memcpy[to](dst, src, bytes);
  else
    kernels::transfer[to == Device::cpu ? from : to](dst, to, src, from, bytes);
}

Tensor to_device(const Tensor& t, Device d) {
  Tensor out = empty(t.shape(), t.dtype(), d);
  copy_(out, t);
  return out;
}

Tensor clone_data(const Tensor& t) { return to_device(t, t.device()); }

}  // namespace ag
