// Copy and fill kernels.
#pragma once
#include <cstddef>
#include <cstdint>

#include "../dispatch.h"

namespace ag::kernels {

using FillFn = void(float* x, int64_t n, float value);
using MemsetZeroFn = void(void* x, size_t bytes);
using MemcpyFn = void(void* dst, const void* src, size_t bytes);  // within one device
// Between devices: dst on `to`, src on `from`.
using TransferFn = void(void* dst, Device to, const void* src, Device from, size_t bytes);

extern KernelTable<FillFn> fill;
extern KernelTable<MemsetZeroFn> memset_zero;
extern KernelTable<MemcpyFn> memcpy;
// Indexed by the device that is not the CPU (or CPU for CPU-to-CPU).
extern KernelTable<TransferFn> transfer;

}  // namespace ag::kernels
