// Launch shapes shared by the CUDA kernels.
#pragma once
#include <cmath>
#include <cstdint>

namespace ag::cuda {

constexpr int kThreads = 256;        // threads per block of element-wise kernels
constexpr int64_t kMaxBlocks = 4096; // grid-stride loops cover the rest

// Blocks for n elements at kThreads each, at most kMaxBlocks (at least 1).
inline unsigned blocks_for(int64_t n) {
  int64_t b = (n + kThreads - 1) / kThreads;
  return static_cast<unsigned>(b < 1 ? 1 : (b > kMaxBlocks ? kMaxBlocks : b));
}

// Threads for one block per row of n elements: a multiple of 32, at most kThreads.
inline unsigned row_threads(int64_t n) {
  int64_t t = (n + 31) / 32 * 32;
  return static_cast<unsigned>(t < 32 ? 32 : (t > kThreads ? kThreads : t));
}

// for (i = first; i < n; i += stride) over the whole grid.
#define AG_GRID_LOOP(i, n)                                                        \
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < (n);      \
       i += int64_t{gridDim.x} * blockDim.x)

// Warp and block reductions; the block ones return the result to every thread and need
// blockDim.x to be a multiple of 32 and `shared` to hold 32 floats.
__device__ inline float warp_sum(float v) {
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}

__device__ inline float warp_max(float v) {
  for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
  return v;
}

__device__ inline float block_sum(float v, float* shared) {
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = blockDim.x >> 5;
  v = warp_sum(v);
  __syncthreads();  // an earlier call may still be reading `shared`
  if (lane == 0) shared[warp] = v;
  __syncthreads();
  return warp_sum(lane < warps ? shared[lane] : 0.0f);
}

// fmaxf skips NaNs, as the CPU kernels' max does; callers let a NaN poison a later sum.
__device__ inline float block_max(float v, float* shared) {
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = blockDim.x >> 5;
  v = warp_max(v);
  __syncthreads();
  if (lane == 0) shared[warp] = v;
  __syncthreads();
  return warp_max(lane < warps ? shared[lane] : -INFINITY);
}

}  // namespace ag::cuda
