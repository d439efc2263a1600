// asr-eval as a library: decode a data set with a checkpoint, write sclite trn files,
// per-utterance results and a JSON summary; compare experiments side by side.
#pragma once
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace asr {

struct EvalToolOptions {
  std::string checkpoint;
  std::string data;         // what asr/eval/eval_data.h accepts: a manifest, a data folder's split, a corpus split
  int beam_size = 10;       // CTC prefix beam (1: greedy), and the hybrid modes' beam
  // ctc_greedy | ctc_beam | attention_rescoring | joint (the last two: hybrid models)
  std::string decode = "ctc_beam";
  float ctc_weight = 0.3f;    // attention_rescoring, joint: CTC's weight in the score
  float length_bonus = 0.0f;  // joint: added per token
  std::string out;          // folder for ref.trn, hyp.trn, results.txt, eval.json ("" = none)
  int64_t chunk_size = 0;   // encoder chunks (0: full context)
  int64_t left_chunks = -1;
  bool streaming = false;   // decode chunk by chunk through the caches (needs chunk_size > 0)
  int64_t threads = 0;      // 0: all cores
  std::string device = "cpu";  // cpu | cuda: where the model decodes (streaming: cpu only)
  std::string cache_dtype = "f32";  // f32 | int8: the streaming attention caches (--streaming)
};

// Decodes with the tokenizer and CMVN statistics the checkpoint carries (an older one: those
// of its training data folder); a data folder beside the manifest with another tokenizer is
// refused. A corpus split's manifest is prepared into `out` (manifest.jsonl) or a temp folder.
// Returns the summary: wer, cer, sub, del, ins, ref_words, ref_chars, utterances, rtf,
// params, kv_cache_bytes_per_frame, attention, checkpoint, data, beam, decode (ctc_weight,
// length_bonus for the hybrid modes), device; a hybrid model's `decoder` (its attention
// types, and its caches measured and by formula at 1000 encoder frames and 10 tokens:
// self_cache_bytes_per_token_*, src_cache_bytes_per_frame_*); offline, the
// KV cache a stream with all its history holds after 1000 encoder frames (kv_cache_bytes_1000_measured,
// kv_cache_bytes_1000_formula; chunks of 16); with streaming
// `streaming` (chunk, left_chunks, cache_dtype, exact, cache_bytes_measured_1000,
// cache_bytes_formula_1000, conv_cache_bytes, cache_bytes_allocated_1000,
// shared_weight_bytes_1000, chunks, chunk_latency_ms_mean, chunk_latency_ms_p95, rtf).
// Throws ag::Error for a
// missing data set or checkpoint, or a checkpoint its own config does not match.
nlohmann::json run_eval(const EvalToolOptions& o);

// Experiments side by side: each entry an eval.json or a folder holding one, with the ref.trn
// and hyp.trn asr-eval --out writes beside it. One object per entry: experiment, encoder,
// attention (a hybrid model's followed by ", decoder <self>/<src>"), decoding, params, wer,
// cer, rtf, kv_cache_bytes_per_frame,
// kv_cache_bytes_1000_measured; entries 2..N add `vs_first`, their difference from the first
// over the same utterances (asr/eval/significance.h): delta_wer, ci_low, ci_high (95%,
// paired bootstrap), the same relative to the first's WER (*_rel; null when it is 0),
// prob_improvement, resamples, seed, cer {delta, ci_low, ci_high, *_rel, prob_improvement}
// (the same bootstrap over characters), and mapsswe {segments, min_good, mean, sd, z, p} (z
// infinite when every segment differs alike: null once dumped, as the NaN *_rel are).
// Throws ag::Error naming the files when the runs did not decode the same utterances.
nlohmann::json compare_json(const std::vector<std::string>& entries);
// compare_json as a markdown table, one row per entry.
std::string compare_table(const std::vector<std::string>& entries);

}  // namespace asr
