// CUDA strided copy, the kernel behind permute, narrow, slice, concat and pad: one thread per
// element of the plan's index space.
#include "../kernels/shape.h"
#include "check.h"
#include "launch.cuh"
#include "register.h"
#include "stream.h"

namespace ag::cuda {
namespace {
using kernels::CopyPlan;

// dst[index . stride[1]] = src[index . stride[0]] for every index of the plan.
__global__ void strided_copy_kernel(const float* src, float* dst, CopyPlan p) {
  AG_GRID_LOOP(i, p.numel) {
    int64_t rem = i, so = 0, dof = 0;
    for (int d = p.ndim - 1; d >= 0; --d) {
      const int64_t k = rem % p.shape[d];
      rem /= p.shape[d];
      so += k * p.stride[0][d];
      dof += k * p.stride[1][d];
    }
    dst[dof] = src[so];
  }
}

void strided_copy(const float* src, float* dst, const CopyPlan& p) {
  if (p.numel == 0) return;
  strided_copy_kernel<<<blocks_for(p.numel), kThreads, 0, stream()>>>(src, dst, p);
  AG_CUDA_CHECK_LAUNCH("strided_copy_kernel");
}

}  // namespace

void register_shape_kernels() { kernels::strided_copy.set(Device::cuda, &strided_copy); }

}  // namespace ag::cuda
