// CUDA dropout with the counter-based mask of kernels/dropout.h that the CPU uses: element i is kept
// when a hash of (seed, i) falls below the threshold, so both devices drop the same elements.
#include "../kernels/dropout.h"
#include "check.h"
#include "launch.cuh"
#include "register.h"
#include "stream.h"

namespace ag::cuda {
namespace {

// x, y: [n]; the mask of kernels/dropout.h.
__global__ void dropout_kernel(const float* x, float* y, int64_t n, kernels::DropoutMask m) {
  AG_GRID_LOOP(i, n) {
    y[i] = x[i] * m.factor(static_cast<uint32_t>(i), m.block_key(i));
  }
}

void dropout(const float* x, float* y, int64_t n, float p, uint64_t seed) {
  if (n == 0) return;
  dropout_kernel<<<blocks_for(n), kThreads, 0, stream()>>>(x, y, n,
                                                          kernels::dropout_mask(p, seed));
  AG_CUDA_CHECK_LAUNCH("dropout_kernel");
}

}  // namespace

void register_dropout_kernels() { kernels::dropout.set(Device::cuda, &dropout); }

}  // namespace ag::cuda
