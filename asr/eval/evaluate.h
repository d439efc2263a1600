// Evaluation of an ASR model over a data set: loss, decoding (CTC, or with a hybrid model's
// attention decoder), word and character errors, per-utterance results and the real-time
// factor.
#pragma once
#include <string>
#include <vector>

#include "asr/model/asr_model.h"
#include "asr/data/loader.h"
#include "asr/data/tokenizer.h"
#include "asr/eval/wer.h"

namespace asr {

struct UtteranceResult {
  std::string key, ref, hyp;
  ErrorCounts words, chars;
};

struct EvalReport {
  ErrorCounts words, chars;
  double loss = 0;            // per utterance (feasible ones): CTC, or with
                              // loss_ctc_weight < 1 the hybrid training loss
  double ctc_loss = 0;        // CTC loss per utterance (feasible ones)
  double attention_loss = 0;  // hybrid: label-smoothed attention loss per utterance
  double accuracy = -1;       // hybrid: the decoder's teacher-forced token accuracy (-1: none)
  double loss_ctc_weight = 1; // how `loss` weighs ctc_loss against attention_loss (options')
  int64_t utterances = 0;
  int64_t feasible = 0;       // utterances whose CTC loss is finite (those in `loss`)
  double audio_seconds = 0;   // from the feature frames (10 ms each)
  double wall_seconds = 0;    // features (waited for), forward and decoding
  std::vector<UtteranceResult> results;  // in data order
  std::vector<double> chunk_seconds;      // streaming: each chunk's encoder + CTC head time
  double rtf() const { return audio_seconds > 0 ? wall_seconds / audio_seconds : 0; }
};

// How hypotheses are found: CTC (prefix beam search, greedy at beam 1), or with a hybrid
// model's decoder: WeNet's attention rescoring of the CTC n-best, ESPnet's joint CTC/attention
// beam search (asr/model/hybrid_decode.h).
enum class Decode { ctc, attention_rescoring, joint };
// "ctc_greedy" | "ctc_beam" | "attention_rescoring" | "joint" -> mode (ctc_greedy: beam 1).
Decode decode_of(const std::string& name);
// The name of a mode at a beam size (ctc at beam 1: "ctc_greedy").
std::string decode_name(Decode d, int beam_size);

struct EvalOptions {
  int beam_size = 1;          // ctc: 1 is greedy
  int64_t chunk_size = 0;     // encoder chunks (0: full context)
  int64_t left_chunks = -1;
  bool streaming = false;     // each utterance chunk by chunk through the caches (chunk_size > 0)
  ag::Device device = ag::Device::cpu;  // where the model is: features are uploaded there
                                        // (streaming decodes on the CPU only)
  nn::CacheDtype cache_dtype = nn::CacheDtype::f32;  // streaming: the attention caches' dtype
  Decode decode = Decode::ctc;  // streaming: ctc or attention_rescoring (at the utterance end)
  float decode_ctc_weight = 0.3f;  // attention_rescoring, joint: CTC's weight in the score
  float length_bonus = 0.0f;       // joint
  // The reported loss of a hybrid model: loss_ctc_weight * CTC + (1 - loss_ctc_weight) *
  // attention (label smoothing lsm_weight), as its training; 1: CTC alone.
  float loss_ctc_weight = 1.0f;
  float lsm_weight = 0.0f;
};

// Runs the model in eval mode over one epoch of `loader` (restoring the training flag after).
EvalReport evaluate(AsrModel& model, Loader& loader, const Tokenizer& tokenizer,
                    const EvalOptions& opt = EvalOptions());

}  // namespace asr
