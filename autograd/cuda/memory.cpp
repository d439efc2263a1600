// CUDA memory: cudaMalloc under the caching allocator (allocator.cpp keeps the size classes
// and statistics for every device), pinned host buffers, and the copy kernels.
#include <cstdio>

#include "../allocator.h"
#include "../cuda.h"
#include "../kernels/copy.h"
#include "check.h"
#include "register.h"
#include "stream.h"

namespace ag::cuda {
namespace {

// nullptr when the device is out of memory (the cache then frees what it holds and retries);
// any other failure throws.
void* device_alloc(size_t bytes) {
  void* p = nullptr;
  cudaError_t e = cudaMalloc(&p, bytes);
  if (e == cudaErrorMemoryAllocation) {
    (void)cudaGetLastError();  // clear it
    return nullptr;
  }
  if (e != cudaSuccess) detail::cuda_fail(e, "cudaMalloc", __FILE__, __LINE__);
  return p;
}

// Called from destructors, so it reports instead of throwing; at process exit the runtime
// may already be unloading, which needs no report.
void device_free(void* p) {
  cudaError_t e = cudaFree(p);
  if (e != cudaSuccess && e != cudaErrorCudartUnloading)
    std::fprintf(stderr, "cudaFree failed: %s (%s)\n", cudaGetErrorName(e), cudaGetErrorString(e));
}

void memset_zero(void* x, size_t bytes) {
  AG_CUDA_CHECK(cudaMemsetAsync(x, 0, bytes, stream()));
}

void memcpy_device(void* dst, const void* src, size_t bytes) {
  AG_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToDevice, stream()));
}

// Host <-> device (or device <-> device). Waits, so the host side may be reused or read.
void transfer(void* dst, Device to, const void* src, Device from, size_t bytes) {
  const cudaMemcpyKind kind = to == Device::cpu ? cudaMemcpyDeviceToHost
                              : from == Device::cpu ? cudaMemcpyHostToDevice
                                                    : cudaMemcpyDeviceToDevice;
  cudaStream_t s = stream();
  AG_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, kind, s));
  AG_CUDA_CHECK(cudaStreamSynchronize(s));
}

}  // namespace

PinnedBuffer::PinnedBuffer(size_t bytes) : bytes_(bytes) {
  AG_CUDA_CHECK(cudaHostAlloc(&data_, bytes, cudaHostAllocDefault));
}

PinnedBuffer::~PinnedBuffer() {
  cudaError_t e = cudaFreeHost(data_);
  if (e != cudaSuccess && e != cudaErrorCudartUnloading)
    std::fprintf(stderr, "cudaFreeHost failed: %s (%s)\n", cudaGetErrorName(e),
                 cudaGetErrorString(e));
}

void copy_to_device_async(const Tensor& dst, const PinnedBuffer& src) {
  const size_t bytes = dst.numel() * dtype_size(dst.dtype());
  AG_CHECK(dst.device() == Device::cuda, "copy_to_device_async: destination is on ",
           device_name(dst.device()));
  AG_CHECK(bytes <= src.bytes(), "copy_to_device_async: ", shape_str(dst.shape()), " ",
           dtype_name(dst.dtype()), " needs ", bytes, " bytes, the pinned buffer holds ",
           src.bytes());
  AG_CUDA_CHECK(cudaMemcpyAsync(dst.raw(), src.data(), bytes, cudaMemcpyHostToDevice, stream()));
}

void register_copy_kernels() {
  kernels::memset_zero.set(Device::cuda, &memset_zero);
  kernels::memcpy.set(Device::cuda, &memcpy_device);
  kernels::transfer.set(Device::cuda, &transfer);
}

void register_backend() {
  set_system_allocator(Device::cuda, {device_alloc, device_free});
  register_copy_kernels();
  register_gemm_kernels();
  register_elementwise_kernels();
  register_reduce_kernels();
  register_softmax_kernels();
  register_norm_kernels();
  register_shape_kernels();
  register_index_kernels();
  register_optim_kernels();
  register_dropout_kernels();
  register_rel_shift_kernels();
  register_conv_kernels();
  register_ctc_kernels();
}

}  // namespace ag::cuda
