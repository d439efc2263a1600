// CUDA CTC loss: log_softmax of the logits (the softmax kernel), then one block per
// utterance runs the alpha (and, for the gradient, beta) recursion over the blank-extended
// labels l' = (blank, l1, blank, ..., blank) of length S = 2L + 1, a thread per state and a
// barrier per frame. The gradient is softmax minus the posterior, whose per-state terms are
// added into their symbol's slot with atomicAdd.
//
// As in ops/ctc.cpp, input_lengths, targets, target_lengths and feasible are host memory;
// logits, nll and grad are device memory.
#include <algorithm>
#include <vector>

#include "../kernels/ctc.h"
#include "../kernels/softmax.h"
#include "check.h"
#include "launch.cuh"
#include "register.h"
#include "scratch.h"
#include "stream.h"

namespace ag::cuda {
namespace {

__device__ inline float log_add(float a, float b) {
  if (a == -INFINITY) return b;
  if (b == -INFINITY) return a;
  return a > b ? a + log1pf(expf(b - a)) : b + log1pf(expf(a - b));
}

// Symbol of state s of l'.
__device__ inline int64_t label_of(const int64_t* labels, int64_t s) {
  return s % 2 == 0 ? 0 : labels[s / 2];
}

// May state s be reached from s - 2 (skipping a blank)? Only between different labels.
__device__ inline bool can_skip(const int64_t* labels, int64_t s) {
  return s >= 2 && s % 2 == 1 && labels[s / 2] != labels[s / 2 - 1];
}

// What the kernels read per utterance, on the device.
struct Batch {
  const int64_t* frames;          // [B] input length, 0 where infeasible
  const int64_t* target_lengths;  // [B]
  const int64_t* targets;         // [B, L_max]
  int64_t T, V, L_max;
};

// lp [B, T, V] log-probabilities -> alpha [B, T, S_max]; log_p, nll [B]. One block per b.
__global__ void ctc_alpha_kernel(const float* lp, Batch bt, float* alpha, float* log_p,
                                 float* nll) {
  const int64_t b = blockIdx.x, Tn = bt.frames[b];
  if (Tn == 0) {  // infeasible: no loss, no gradient (the same for the whole block)
    if (threadIdx.x == 0) nll[b] = log_p[b] = 0.0f;
    return;
  }
  const int64_t S = 2 * bt.target_lengths[b] + 1, S_max = 2 * bt.L_max + 1;
  const int64_t* labels = bt.targets + b * bt.L_max;
  const float* lpb = lp + b * bt.T * bt.V;
  float* a = alpha + b * bt.T * S_max;
  for (int64_t s = threadIdx.x; s < S; s += blockDim.x)
    a[s] = s < 2 ? lpb[label_of(labels, s)] : -INFINITY;
  __syncthreads();
  for (int64_t t = 1; t < Tn; ++t) {
    const float* prev = a + (t - 1) * S_max;
    float* cur = a + t * S_max;
    for (int64_t s = threadIdx.x; s < S; s += blockDim.x) {
      float v = prev[s];
      if (s >= 1) v = log_add(v, prev[s - 1]);
      if (can_skip(labels, s)) v = log_add(v, prev[s - 2]);
      cur[s] = v == -INFINITY ? -INFINITY : v + lpb[t * bt.V + label_of(labels, s)];
    }
    __syncthreads();
  }
  if (threadIdx.x == 0) {
    const float* last = a + (Tn - 1) * S_max;
    const float lpv = S > 1 ? log_add(last[S - 1], last[S - 2]) : last[S - 1];
    log_p[b] = lpv;
    nll[b] = -lpv;
  }
}

// lp [B, T, V] -> beta [B, T, S_max]. One block per utterance.
__global__ void ctc_beta_kernel(const float* lp, Batch bt, float* beta) {
  const int64_t b = blockIdx.x, Tn = bt.frames[b];
  if (Tn == 0) return;
  const int64_t S = 2 * bt.target_lengths[b] + 1, S_max = 2 * bt.L_max + 1;
  const int64_t* labels = bt.targets + b * bt.L_max;
  const float* lpb = lp + b * bt.T * bt.V;
  float* be = beta + b * bt.T * S_max;
  for (int64_t s = threadIdx.x; s < S; s += blockDim.x)
    be[(Tn - 1) * S_max + s] = s >= S - 2 ? lpb[(Tn - 1) * bt.V + label_of(labels, s)] : -INFINITY;
  __syncthreads();
  for (int64_t t = Tn - 2; t >= 0; --t) {
    const float* next = be + (t + 1) * S_max;
    float* cur = be + t * S_max;
    for (int64_t s = threadIdx.x; s < S; s += blockDim.x) {
      float v = next[s];
      if (s + 1 < S) v = log_add(v, next[s + 1]);
      if (s + 2 < S && can_skip(labels, s + 2)) v = log_add(v, next[s + 2]);
      cur[s] = v == -INFINITY ? -INFINITY : v + lpb[t * bt.V + label_of(labels, s)];
    }
    __syncthreads();
  }
}

// grad [B, T, V] = softmax inside each utterance's frames, 0 past them.
__global__ void ctc_softmax_part_kernel(const float* lp, Batch bt, float* grad, int64_t B) {
  AG_GRID_LOOP(e, B * bt.T * bt.V) {
    const int64_t t = e / bt.V % bt.T, b = e / (bt.V * bt.T);
    grad[e] = t < bt.frames[b] ? expf(lp[e]) : 0.0f;
  }
}

// grad[b, t, l'_s] -= exp(alpha + beta - lp[b, t, l'_s] - log_p) for every state s (alpha
// beta counts frame t's emission twice). One thread per (b, t, s).
__global__ void ctc_posterior_kernel(const float* lp, const float* alpha, const float* beta,
                                     const float* log_p, Batch bt, float* grad, int64_t B) {
  const int64_t S_max = 2 * bt.L_max + 1;
  AG_GRID_LOOP(e, B * bt.T * S_max) {
    const int64_t s = e % S_max, t = e / S_max % bt.T, b = e / (S_max * bt.T);
    if (t >= bt.frames[b] || s >= 2 * bt.target_lengths[b] + 1) continue;
    const float ab = alpha[e] + beta[e];
    if (ab == -INFINITY) continue;
    const int64_t k = label_of(bt.targets + b * bt.L_max, s);
    const int64_t at = (b * bt.T + t) * bt.V + k;
    atomicAdd(grad + at, -expf(ab - lp[at] - log_p[b]));
  }
}

// Frames needed: one per label plus one between each repeated pair.
int64_t min_frames(const int64_t* labels, int64_t L) {
  int64_t need = L;
  for (int64_t i = 1; i < L; ++i) need += labels[i] == labels[i - 1];
  return need;
}

void ctc(const float* logits, const int64_t* input_lengths, const int64_t* targets,
         const int64_t* target_lengths, int64_t B, int64_t T, int64_t V, int64_t L_max,
         float* nll, uint8_t* feasible, float* grad) {
  if (B == 0) return;
  AG_CHECK(B <= INT32_MAX, "ctc (cuda): batch of ", B, " is too large for one grid");
  // meta = frames [B] (0 where infeasible), target_lengths [B], targets [B, L_max]
  std::vector<int64_t> meta(2 * B + B * L_max);
  for (int64_t b = 0; b < B; ++b) {
    const int64_t Tn = input_lengths[b], L = target_lengths[b];
    const bool ok = Tn > 0 && Tn >= min_frames(targets + b * L_max, L);
    feasible[b] = ok;
    meta[b] = ok ? Tn : 0;
    meta[B + b] = L;
  }
  std::copy(targets, targets + B * L_max, meta.begin() + 2 * B);
  const int64_t S_max = 2 * L_max + 1;
  Scratch meta_d(meta.size() * sizeof(int64_t)), lp(B * T * V * sizeof(float));
  Scratch alpha(B * T * S_max * sizeof(float)), log_p(B * sizeof(float));
  cudaStream_t s = stream();
  AG_CUDA_CHECK(cudaMemcpyAsync(meta_d.as<int64_t>(), meta.data(), meta.size() * sizeof(int64_t),
                                cudaMemcpyHostToDevice, s));
  AG_CUDA_CHECK(cudaStreamSynchronize(s));  // `meta` is pageable and about to go
  const Batch bt{meta_d.as<int64_t>(), meta_d.as<int64_t>() + B, meta_d.as<int64_t>() + 2 * B,
                 T, V, L_max};
  kernels::softmax[Device::cuda](logits, lp.as<float>(), B * T, V, 1, true);
  const unsigned threads = row_threads(S_max);
  ctc_alpha_kernel<<<static_cast<unsigned>(B), threads, 0, s>>>(lp.as<float>(), bt,
                                                                alpha.as<float>(),
                                                                log_p.as<float>(), nll);
  AG_CUDA_CHECK_LAUNCH("ctc_alpha_kernel");
  if (!grad) return;
  Scratch beta(B * T * S_max * sizeof(float));
  ctc_beta_kernel<<<static_cast<unsigned>(B), threads, 0, s>>>(lp.as<float>(), bt,
                                                               beta.as<float>());
  AG_CUDA_CHECK_LAUNCH("ctc_beta_kernel");
  ctc_softmax_part_kernel<<<blocks_for(B * T * V), kThreads, 0, s>>>(lp.as<float>(), bt, grad,
                                                                     B);
  AG_CUDA_CHECK_LAUNCH("ctc_softmax_part_kernel");
  ctc_posterior_kernel<<<blocks_for(B * T * S_max), kThreads, 0, s>>>(
      lp.as<float>(), alpha.as<float>(), beta.as<float>(), log_p.as<float>(), bt, grad, B);
  AG_CUDA_CHECK_LAUNCH("ctc_posterior_kernel");
}

}  // namespace

void register_ctc_kernels() { kernels::ctc.set(Device::cuda, &ctc); }

}  // namespace ag::cuda
