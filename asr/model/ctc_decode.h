// CTC decoding over log-probabilities [T, V] (blank id 0): greedy (best path, repeats
// merged, blanks dropped) and prefix beam search (Graves 2012; Hannun et al. 2014 without a
// language model), which sums over all alignments of each prefix.
#pragma once
#include <cstdint>
#include <vector>

#include "autograd/tensor.h"

namespace asr {

// A decoded token sequence and its log-probability (CTC: summed over its alignments).
struct Hypothesis {
  std::vector<int64_t> tokens;
  float score = 0;
};

// log_probs [T, V] (only the first `length` frames are read) -> token ids.
std::vector<int64_t> ctc_greedy(const ag::Tensor& log_probs, int64_t length);
std::vector<int64_t> ctc_prefix_beam_search(const ag::Tensor& log_probs, int64_t length,
                                            int beam_size);
// The prefix beam search's final beam, best first (at most beam_size hypotheses).
std::vector<Hypothesis> ctc_nbest(const ag::Tensor& log_probs, int64_t length, int beam_size);

// Decodes every utterance of a batch: log_probs [B, T, V], lengths [B]; beam_size <= 1 is greedy.
std::vector<std::vector<int64_t>> ctc_decode(const ag::Tensor& log_probs,
                                             const std::vector<int64_t>& lengths, int beam_size);

}  // namespace asr
