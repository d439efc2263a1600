// Decoding with a hybrid CTC/attention model (AsrModel with a decoder), one utterance at a
// time, the hypotheses of its beam batched through the decoder:
//   attention rescoring (WeNet): the CTC prefix beam search's n-best, each rescored by the
//     decoder in one batched pass;
//   joint (ESPnet's beam search with CTC prefix scoring, Watanabe et al. 2017): the decoder
//     proposes tokens step by step through its caches (DecoderState: the cross-attention
//     memory computed once, shared by the beam), each scored by the attention and by CTC's
//     probability of the prefix.
// Both score a hypothesis y as (1 - ctc_weight) log p_att(y <eos>) + ctc_weight log p_ctc(y)
// (+ length_bonus per token, <eos> included, in joint), ESPnet's weighting (WeNet's rescoring
// adds w' log p_ctc to log p_att: the same ranking at ctc_weight = w' / (1 + w')). Joint
// decoding scores a prefix CTC cannot emit in the utterance's frames with ESPnet's logzero
// (-1e10) rather than -inf, so that it ranks last and its extensions stay finite.
#pragma once
#include <cstdint>
#include <vector>

#include "asr/model/asr_model.h"
#include "asr/model/ctc_decode.h"

namespace asr {

// CTC's probability of prefixes (ESPnet's CTCPrefixScore) over log_probs [T, V] of one
// utterance (blank 0). A state holds, per frame t, the log-probabilities that the frames up
// to t emit exactly the prefix, ending in a token (r_n) or in a blank (r_b).
class CtcPrefixScorer {
 public:
  struct State {
    std::vector<float> r_n, r_b;  // [T]
    int64_t last = -1;            // the prefix's last token (-1: empty)
    float prefix = 0;             // log P(the frames begin with the prefix), 0 when empty
  };
  // log_probs [T', V] on the CPU, the first `length` frames read.
  CtcPrefixScorer(const ag::Tensor& log_probs, int64_t length);
  State initial() const;
  // The prefix extended by token c (1 <= c < V): its state, whose `prefix` is
  // log sum over t of P(frames < t emit the prefix) P(frame t emits c) -- the score.
  State extend(const State& s, int64_t c) const;
  // log P(all the frames emit exactly the prefix): the score of ending it.
  float end(const State& s) const;
  int64_t frames() const { return T_; }

 private:
  int64_t T_, V_;
  std::vector<float> lp_;  // [T, V]
};

struct HybridDecodeOptions {
  int beam_size = 10;
  float ctc_weight = 0.3f;    // decode-time weight of CTC against the attention
  float length_bonus = 0.0f;  // joint: added per token (ESPnet's penalty)
  int64_t max_length = 0;     // joint: most tokens (0: the encoder frames)
  bool end_detect = true;     // joint, max_length 0: ESPnet's end detection (off: search to
                              // the last frame)
};

// enc [1, T, d] (encoder output), log_probs [T, V] its CTC log-probabilities (CPU), length the
// valid frames -> the best hypothesis and its combined score.
Hypothesis attention_rescoring(AsrModel& model, const ag::Tensor& enc,
                               const ag::Tensor& log_probs, int64_t length,
                               const HybridDecodeOptions& o);
Hypothesis joint_decode(AsrModel& model, const ag::Tensor& enc, const ag::Tensor& log_probs,
                        int64_t length, const HybridDecodeOptions& o);

}  // namespace asr
