// CUDA indexing and mask kernels: one thread per output (or per incoming gradient element,
// with atomicAdd where repeated indices accumulate).
#include "../kernels/index.h"
#include "check.h"
#include "launch.cuh"
#include "register.h"
#include "scratch.h"
#include "stream.h"

namespace ag::cuda {
namespace {
using kernels::StridedPlan;

// *first = the smallest position i with idx[i] outside [0, size) (stays n when none).
__global__ void find_bad_index_kernel(const int64_t* idx, int64_t n, int64_t size,
                                      unsigned long long* first) {
  AG_GRID_LOOP(i, n) {
    if (idx[i] < 0 || idx[i] >= size) atomicMin(first, static_cast<unsigned long long>(i));
  }
}

// Synchronous: the caller needs the answer on the host.
bool index_in_range(const int64_t* idx, int64_t n, int64_t size, int64_t* first_bad) {
  if (n == 0) return true;
  Scratch first(sizeof(unsigned long long));
  auto* f = first.as<unsigned long long>();
  cudaStream_t s = stream();
  unsigned long long pos = static_cast<unsigned long long>(n);
  AG_CUDA_CHECK(cudaMemcpyAsync(f, &pos, sizeof pos, cudaMemcpyHostToDevice, s));
  find_bad_index_kernel<<<blocks_for(n), kThreads, 0, s>>>(idx, n, size, f);
  AG_CUDA_CHECK_LAUNCH("find_bad_index_kernel");
  AG_CUDA_CHECK(cudaMemcpyAsync(&pos, f, sizeof pos, cudaMemcpyDeviceToHost, s));
  AG_CUDA_CHECK(cudaStreamSynchronize(s));
  if (pos == static_cast<unsigned long long>(n)) return true;
  AG_CUDA_CHECK(cudaMemcpyAsync(first_bad, idx + pos, sizeof(int64_t), cudaMemcpyDeviceToHost, s));
  AG_CUDA_CHECK(cudaStreamSynchronize(s));
  return false;
}

// y[o, j, i] = x[o, idx[j], i]; one thread per element of y [outer, m, inner].
__global__ void index_select_kernel(const float* x, const int64_t* idx, float* y, int64_t outer,
                                    int64_t n, int64_t m, int64_t inner) {
  AG_GRID_LOOP(e, outer * m * inner) {
    const int64_t i = e % inner, j = e / inner % m, o = e / (inner * m);
    y[e] = x[(o * n + idx[j]) * inner + i];
  }
}

void index_select(const float* x, const int64_t* idx, float* y, int64_t outer, int64_t n,
                  int64_t m, int64_t inner) {
  const int64_t total = outer * m * inner;
  if (total == 0) return;
  index_select_kernel<<<blocks_for(total), kThreads, 0, stream()>>>(x, idx, y, outer, n, m,
                                                                   inner);
  AG_CUDA_CHECK_LAUNCH("index_select_kernel");
}

// gx[o, idx[j], i] += gy[o, j, i]; one thread per element of gy.
__global__ void index_add_kernel(const float* gy, const int64_t* idx, float* gx, int64_t outer,
                                 int64_t n, int64_t m, int64_t inner) {
  AG_GRID_LOOP(e, outer * m * inner) {
    const int64_t i = e % inner, j = e / inner % m, o = e / (inner * m);
    atomicAdd(gx + (o * n + idx[j]) * inner + i, gy[e]);
  }
}

void index_add(const float* gy, const int64_t* idx, float* gx, int64_t outer, int64_t n,
               int64_t m, int64_t inner) {
  const int64_t total = outer * m * inner;
  if (total == 0) return;
  index_add_kernel<<<blocks_for(total), kThreads, 0, stream()>>>(gy, idx, gx, outer, n, m,
                                                                inner);
  AG_CUDA_CHECK_LAUNCH("index_add_kernel");
}

// y[o, j, i] = x[o, idx[o, j, i], i]; one thread per element of y.
__global__ void gather_kernel(const float* x, const int64_t* idx, float* y, int64_t outer,
                              int64_t n, int64_t m, int64_t inner) {
  AG_GRID_LOOP(e, outer * m * inner) {
    const int64_t i = e % inner, o = e / (inner * m);
    y[e] = x[(o * n + idx[e]) * inner + i];
  }
}

void gather(const float* x, const int64_t* idx, float* y, int64_t outer, int64_t n, int64_t m,
            int64_t inner) {
  const int64_t total = outer * m * inner;
  if (total == 0) return;
  gather_kernel<<<blocks_for(total), kThreads, 0, stream()>>>(x, idx, y, outer, n, m, inner);
  AG_CUDA_CHECK_LAUNCH("gather_kernel");
}

// gx[o, idx[o, j, i], i] += gy[o, j, i]; one thread per element of gy.
__global__ void scatter_add_kernel(const float* gy, const int64_t* idx, float* gx,
                                   int64_t outer, int64_t n, int64_t m, int64_t inner) {
  AG_GRID_LOOP(e, outer * m * inner) {
    const int64_t i = e % inner, o = e / (inner * m);
    atomicAdd(gx + (o * n + idx[e]) * inner + i, gy[e]);
  }
}

void scatter_add(const float* gy, const int64_t* idx, float* gx, int64_t outer, int64_t n,
                 int64_t m, int64_t inner) {
  const int64_t total = outer * m * inner;
  if (total == 0) return;
  scatter_add_kernel<<<blocks_for(total), kThreads, 0, stream()>>>(gy, idx, gx, outer, n, m,
                                                                  inner);
  AG_CUDA_CHECK_LAUNCH("scatter_add_kernel");
}

// Offset of plan index e in operand k.
template <int N>
__device__ inline int64_t plan_offset(const StridedPlan<N>& p, int k, int64_t e) {
  int64_t off = 0;
  for (int d = p.ndim - 1; d >= 0; --d) {
    off += e % p.shape[d] * p.stride[k][d];
    e /= p.shape[d];
  }
  return off;
}

// y = mask ? value : x; y [plan.numel] contiguous, x and mask through strides 0 and 1.
__global__ void masked_fill_kernel(const float* x, const uint8_t* mask, float* y, float value,
                                   StridedPlan<2> p) {
  AG_GRID_LOOP(e, p.numel) {
    y[e] = mask[plan_offset(p, 1, e)] ? value : x[plan_offset(p, 0, e)];
  }
}

void masked_fill(const float* x, const uint8_t* mask, float* y, float value,
                 const StridedPlan<2>& p) {
  if (p.numel == 0) return;
  masked_fill_kernel<<<blocks_for(p.numel), kThreads, 0, stream()>>>(x, mask, y, value, p);
  AG_CUDA_CHECK_LAUNCH("masked_fill_kernel");
}

// out = cond ? a : b; out [plan.numel] contiguous, operands through strides 0, 1, 2.
__global__ void where_kernel(const uint8_t* cond, const float* a, const float* b, float* out,
                             StridedPlan<3> p) {
  AG_GRID_LOOP(e, p.numel) {
    out[e] = cond[plan_offset(p, 0, e)] ? a[plan_offset(p, 1, e)] : b[plan_offset(p, 2, e)];
  }
}

void where(const uint8_t* cond, const float* a, const float* b, float* out,
           const StridedPlan<3>& p) {
  if (p.numel == 0) return;
  where_kernel<<<blocks_for(p.numel), kThreads, 0, stream()>>>(cond, a, b, out, p);
  AG_CUDA_CHECK_LAUNCH("where_kernel");
}

__global__ void logical_not_kernel(const uint8_t* x, uint8_t* y, int64_t n) {
  AG_GRID_LOOP(i, n) y[i] = x[i] ? 0 : 1;
}

void logical_not(const uint8_t* x, uint8_t* y, int64_t n) {
  if (n == 0) return;
  logical_not_kernel<<<blocks_for(n), kThreads, 0, stream()>>>(x, y, n);
  AG_CUDA_CHECK_LAUNCH("logical_not_kernel");
}

}  // namespace

void register_index_kernels() {
  kernels::index_in_range.set(Device::cuda, &index_in_range);
  kernels::index_select.set(Device::cuda, &index_select);
  kernels::index_add.set(Device::cuda, &index_add);
  kernels::gather.set(Device::cuda, &gather);
  kernels::scatter_add.set(Device::cuda, &scatter_add);
  kernels::masked_fill.set(Device::cuda, &masked_fill);
  kernels::where.set(Device::cuda, &where);
  kernels::logical_not.set(Device::cuda, &logical_not);
}

}  // namespace ag::cuda
