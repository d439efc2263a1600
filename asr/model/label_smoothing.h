// The attention decoder's training loss, as ESPnet's LabelSmoothingLoss with
// normalize_length false: the KL divergence from the smoothed target distribution
// (1 - smoothing at the label, smoothing / (V - 1) at every other token) to the model's
// softmax, summed over the real tokens of the batch (the caller divides, as the CTC loss's
// sum: by the utterances for ESPnet's normalize_length false). The
// target distribution is never formed: per position sum_k t_k log p_k = (1 - s - s/(V-1))
// log p_label + s/(V-1) sum_k log p_k.
#pragma once
#include <vector>

#include "autograd/tensor.h"

namespace asr {

// logits [B, L, V]; targets: B label sequences, each at most L long with ids in [0, V)
// (positions past a sequence's end are padding and count nothing); smoothing in [0, 1)
// -> a scalar, the sum over the batch.
ag::Tensor label_smoothing_loss(const ag::Tensor& logits,
                                const std::vector<std::vector<int64_t>>& targets,
                                float smoothing);

// The share of real positions whose most likely token is the label (ESPnet's `acc`).
double token_accuracy(const ag::Tensor& logits, const std::vector<std::vector<int64_t>>& targets);

}  // namespace asr
