// Whole-tensor copies and fills, dispatched per device.
#pragma once
#include "tensor.h"

namespace ag {

void fill(const Tensor& t, float value);        // float32 tensors
void fill_bytes_zero(const Tensor& t);          // any dtype
void copy_(const Tensor& dst, const Tensor& src);  // same shape, dtype and device
Tensor to_device(const Tensor& t, Device d);    // no grad; a copy
Tensor clone_data(const Tensor& t);             // new storage, no grad

}  // namespace ag
