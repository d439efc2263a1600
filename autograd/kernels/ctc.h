// CTC loss (Graves et al. 2006) in log space, fused with log_softmax: forward gives each
// utterance's negative log-likelihood, backward the gradient w.r.t. the logits.
#pragma once
#include <cstdint>

#include "../dispatch.h"

namespace ag::kernels {

// logits [B, T, V] (unnormalized), input_lengths [B], targets [B, L_max] (padded),
// target_lengths [B]; blank id 0. input_lengths, targets, target_lengths and feasible are
// host memory on every device; logits, nll and grad are on the kernel's device.
// nll [B]: -log p(target | x); an utterance whose target cannot fit in its frames gets
//   nll = 0 and feasible[b] = 0.
// grad [B, T, V] (may be null): d nll_b / d logits_b = softmax - posterior, zero past the
//   input length and for infeasible utterances.
using CtcFn = void(const float* logits, const int64_t* input_lengths, const int64_t* targets,
                   const int64_t* target_lengths, int64_t B, int64_t T, int64_t V, int64_t L_max,
                   float* nll, uint8_t* feasible, float* grad);

extern KernelTable<CtcFn> ctc;

}  // namespace ag::kernels
