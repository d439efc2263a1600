// asr-eval as a library: decode a data set with a checkpoint, write sclite trn files,
// per-utterance results and a JSON summary; compare experiments side by side.
#pragma once
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace asr {

struct EvalToolOptions {
  std::string checkpoint;
  std::string data;         // a manifest (.jsonl), a split "DIR/dev", or a data folder DIR (its dev split)
  int beam_size = 10;       // 1: greedy
  std::string out;          // folder for ref.trn, hyp.trn, results.txt, eval.json ("" = none)
  int64_t chunk_size = 0;   // encoder chunks (0: full context)
  int64_t left_chunks = -1;
  bool streaming = false;   // decode chunk by chunk through the caches (needs chunk_size > 0)
  int64_t threads = 0;      // 0: all cores
  std::string device = "cpu";  // cpu | cuda: where the model decodes (streaming: cpu only)
};

// Returns the summary: wer, cer, sub, del, ins, ref_words, ref_chars, utterances, rtf,
// params, kv_cache_bytes_per_frame, attention, checkpoint, data, beam, device; offline, the
// KV cache a stream with all its history holds after 1000 encoder frames (kv_cache_bytes_1000_measured,
// kv_cache_bytes_1000_formula; chunks of 16); with streaming
// `streaming` (chunk, left_chunks, exact, cache_bytes_measured_1000, cache_bytes_formula_1000,
// conv_cache_bytes, chunks, chunk_latency_ms_mean, chunk_latency_ms_p95, rtf). Throws ag::Error for a
// missing data set or checkpoint, or a checkpoint its own config does not match.
nlohmann::json run_eval(const EvalToolOptions& o);

// Markdown table of experiments: each entry an eval.json or a folder holding one.
std::string compare_table(const std::vector<std::string>& entries);

// The manifest path a --data argument names.
std::string manifest_for(const std::string& data);

}  // namespace asr
