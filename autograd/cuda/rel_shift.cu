// CUDA relative-position shift (kernels/rel_shift.h): one thread per output element.
#include "../kernels/rel_shift.h"
#include "check.h"
#include "launch.cuh"
#include "register.h"
#include "stream.h"

namespace ag::cuda {
namespace {

// y[r, j] = x[r, (t - 1 - i) + j] for row r = (n, i).        x: [n*t, p], y: [n*t, s]
__global__ void rel_shift_kernel(const float* x, float* y, int64_t rows, int64_t t, int64_t p,
                                 int64_t s) {
  AG_GRID_LOOP(e, rows * s) {
    const int64_t r = e / s, j = e % s, i = r % t;
    y[e] = x[r * p + (t - 1 - i) + j];
  }
}

void rel_shift(const float* x, float* y, int64_t n, int64_t t, int64_t p) {
  const int64_t s = p - t + 1;
  if (n * t * s == 0) return;
  rel_shift_kernel<<<blocks_for(n * t * s), kThreads, 0, stream()>>>(x, y, n * t, t, p, s);
  AG_CUDA_CHECK_LAUNCH("rel_shift_kernel");
}

// gx[r, c] = gy[r, c - (t - 1 - i)] inside the row's window, else 0.  gx: [n*t, p]
__global__ void rel_shift_backward_kernel(const float* gy, float* gx, int64_t rows, int64_t t,
                                          int64_t p, int64_t s) {
  AG_GRID_LOOP(e, rows * p) {
    const int64_t r = e / p, j = e % p - (t - 1 - r % t);
    gx[e] = j >= 0 && j < s ? gy[r * s + j] : 0.0f;
  }
}

void rel_shift_backward(const float* gy, float* gx, int64_t n, int64_t t, int64_t p) {
  if (n * t * p == 0) return;
  rel_shift_backward_kernel<<<blocks_for(n * t * p), kThreads, 0, stream()>>>(
      gy, gx, n * t, t, p, p - t + 1);
  AG_CUDA_CHECK_LAUNCH("rel_shift_backward_kernel");
}

}  // namespace

void register_rel_shift_kernels() {
  kernels::rel_shift.set(Device::cuda, &rel_shift);
  kernels::rel_shift_backward.set(Device::cuda, &rel_shift_backward);
}

}  // namespace ag::cuda
