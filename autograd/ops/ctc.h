// CTC loss, fused with log_softmax over the vocabulary. Blank id 0.
#pragma once
#include <vector>

#include "../tensor.h"

namespace ag {

struct CtcResult {
  Tensor nll;                 // [B] -log p(target_b | x_b); 0 where infeasible
  std::vector<bool> feasible;  // false where the target needs more frames than the input has
};

// logits [B, T, V] (before log_softmax), input_lengths [B] (<= T), targets: B label
// sequences with ids in [1, V). The gradient w.r.t. logits is softmax - CTC posterior,
// computed in the same pass; infeasible utterances contribute nothing.
CtcResult ctc_loss(const Tensor& logits, const std::vector<int64_t>& input_lengths,
                   const std::vector<std::vector<int64_t>>& targets);

}  // namespace ag
