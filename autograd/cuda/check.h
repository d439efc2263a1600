// Return-code checks for CUDA runtime calls: a failure throws ag::Error naming the call, the
// error code and where it was made.
//   AG_CUDA_CHECK(cudaMalloc(&p, bytes));
//   my_kernel<<<grid, block, 0, stream()>>>(...); AG_CUDA_CHECK_LAUNCH("my_kernel");
#pragma once
#include <cuda_runtime_api.h>

#include "../error.h"

namespace ag::cuda::detail {

[[noreturn]] inline void cuda_fail(cudaError_t e, const char* call, const char* file, int line) {
  ::ag::detail::fail(call, " failed: ", cudaGetErrorName(e), " (", cudaGetErrorString(e),
                     ") at ", file, ":", line);
}

}  // namespace ag::cuda::detail

#define AG_CUDA_CHECK(call)                                                      \
  do {                                                                           \
    cudaError_t ag_cuda_err_ = (call);                                           \
    if (ag_cuda_err_ != cudaSuccess)                                             \
      ::ag::cuda::detail::cuda_fail(ag_cuda_err_, #call, __FILE__, __LINE__);    \
  } while (0)

// After a kernel launch: a bad configuration shows up here, named by the kernel.
#define AG_CUDA_CHECK_LAUNCH(kernel_name)                                        \
  do {                                                                           \
    cudaError_t ag_cuda_err_ = cudaGetLastError();                               \
    if (ag_cuda_err_ != cudaSuccess)                                             \
      ::ag::cuda::detail::cuda_fail(ag_cuda_err_, "launch of " kernel_name,     \
                                    __FILE__, __LINE__);                         \
  } while (0)
