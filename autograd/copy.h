// Whole-tensor copies and fills, dispatched per device. fill and copy_ bump the written
// tensor's version (tensor.h); copy_bytes writes raw memory and bumps nothing.
#pragma once
#include "tensor.h"

namespace ag {

void fill(const Tensor& t, float value);        // float32 tensors
void fill_bytes_zero(const Tensor& t);          // any dtype
void copy_(const Tensor& dst, const Tensor& src);  // same shape and dtype, any devices
// `bytes` from src (on `from`) to dst (on `to`): a device's memcpy, or the GPU's transfer
// between host and device. copy_ for raw regions (e.g. a slice of a flat buffer).
void copy_bytes(void* dst, Device to, const void* src, Device from, size_t bytes);
Tensor to_device(const Tensor& t, Device d);    // no grad; a copy
Tensor clone_data(const Tensor& t);             // new storage, no grad

}  // namespace ag
