// Evaluation of a CTC model over a data set: loss, decoding, word and character errors,
// per-utterance results and the real-time factor.
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
  double loss = 0;            // CTC loss per utterance (feasible ones)
  int64_t utterances = 0;
  int64_t feasible = 0;       // utterances whose CTC loss is finite (those in `loss`)
  double audio_seconds = 0;   // from the feature frames (10 ms each)
  double wall_seconds = 0;    // features (waited for), forward and decoding
  std::vector<UtteranceResult> results;  // in data order
  std::vector<double> chunk_seconds;      // streaming: each chunk's encoder + CTC head time
  double rtf() const { return audio_seconds > 0 ? wall_seconds / audio_seconds : 0; }
};

struct EvalOptions {
  int beam_size = 1;          // 1: greedy
  int64_t chunk_size = 0;     // encoder chunks (0: full context)
  int64_t left_chunks = -1;
  bool streaming = false;     // each utterance chunk by chunk through the caches (chunk_size > 0)
  ag::Device device = ag::Device::cpu;  // where the model is: features are uploaded there
                                        // (streaming decodes on the CPU only)
  nn::CacheDtype cache_dtype = nn::CacheDtype::f32;  // streaming: the attention caches' dtype
};

// Runs the model in eval mode over one epoch of `loader` (restoring the training flag after).
EvalReport evaluate(AsrModel& model, Loader& loader, const Tokenizer& tokenizer,
                    const EvalOptions& opt = EvalOptions());

}  // namespace asr
