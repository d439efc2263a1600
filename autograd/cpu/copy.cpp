// CPU copy and fill kernels.
#include "../kernels/copy.h"

#include <cstring>

#include "parallel.h"

namespace ag::cpu {
namespace {

void fill(float* x, int64_t n, float value) {
  parallel_for(n, 1 << 16, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) x[i] = value;
  });
}

void memset_zero(void* x, size_t bytes) { std::memset(x, 0, bytes); }

void memcpy_(void* dst, const void* src, size_t bytes) {
  auto* d = static_cast<char*>(dst);
  auto* s = static_cast<const char*>(src);
  parallel_for(static_cast<int64_t>(bytes), 1 << 20, [&](int64_t b, int64_t e) {
    std::memcpy(d + b, s + b, e - b);
  });
}

void transfer(void* dst, Device to, const void* src, Device from, size_t bytes) {
  AG_CHECK(to == Device::cpu && from == Device::cpu, "transfer: ", device_name(from), " -> ",
           device_name(to), " needs the CUDA backend");
  memcpy_(dst, src, bytes);
}

}  // namespace
}  // namespace ag::cpu

namespace ag::kernels {
KernelTable<FillFn> fill{"fill", {&cpu::fill, nullptr}};
KernelTable<MemsetZeroFn> memset_zero{"memset_zero", {&cpu::memset_zero, nullptr}};
KernelTable<MemcpyFn> memcpy{"memcpy", {&cpu::memcpy_, nullptr}};
KernelTable<TransferFn> transfer{"transfer", {&cpu::transfer, nullptr}};
}  // namespace ag::kernels
