// Per-device kernel tables. Every kernel is reached through one of these, so a backend
// (CPU here, CUDA in autograd/cuda/) fills in its slot without the ops knowing it exists.
//
//   using SoftmaxFn = void(const float* x, float* y, int64_t rows, int64_t cols);
//   extern KernelTable<SoftmaxFn> softmax_kernel;          // kernels/*.h
//   KernelTable<SoftmaxFn> softmax_kernel{"softmax", {&cpu::softmax}};  // cpu/*.cpp
//   softmax_kernel[x.device()](x.data(), y.data(), rows, cols);        // ops/*.cpp
#pragma once
#include <string>

#include "device.h"
#include "error.h"

namespace ag {

template <class Fn>
struct KernelTable {
  const char* name;
  Fn* impl[kNumDevices];

  Fn& operator[](Device d) const {
    Fn* f = impl[static_cast<int>(d)];
    AG_CHECK(f, name, ": no kernel for device ", device_name(d),
             " (was the library built with that backend?)");
    return *f;
  }
  // A backend installing its kernel.
  void set(Device d, Fn* f) { impl[static_cast<int>(d)] = f; }
};

}  // namespace ag
