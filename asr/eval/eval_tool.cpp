#include "asr/eval/eval_tool.h"

#include <omp.h>

#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <sstream>

#include "autograd/ops.h"
#include "asr/model/checkpoint.h"
#include "asr/config/config.h"
#include "asr/model/device.h"
#include "asr/eval/evaluate.h"
#include "asr/data/manifest.h"
#include "nn/safetensors.h"
#include "asr/data/prepare.h"
#include "asr/eval/streaming_eval.h"

namespace asr {
namespace fs = std::filesystem;

std::string manifest_for(const std::string& data) {
  if (fs::is_regular_file(data)) return data;
  if (fs::exists(data + ".jsonl")) return data + ".jsonl";
  if (fs::is_directory(data) && fs::exists(data + "/dev.jsonl")) return data + "/dev.jsonl";
  ag::detail::fail("no data at '", data,
                   "' (expected a manifest .jsonl, a split DIR/dev with DIR/dev.jsonl, or a data "
                   "folder with dev.jsonl)");
}

namespace {
// Real features for the cache probe: the data set's utterances end to end (repeated when
// short) -> [1, frames, F].
ag::Tensor probe_features(Loader& loader, int64_t frames) {
  std::vector<ag::Tensor> parts;
  int64_t have = 0;
  for (int64_t epoch = 0; have < frames; ++epoch) {
    loader.start_epoch(epoch);
    while (std::optional<Batch> batch = loader.next())
      for (int64_t b = 0; b < batch->size() && have < frames; ++b) {
        parts.push_back(ag::narrow(ag::narrow(batch->feats, 0, b, 1), 1, 0, batch->lengths[b]));
        have += batch->lengths[b];
      }
  }
  return ag::narrow(ag::concat(parts, 1), 1, 0, frames);
}

constexpr int64_t kProbeFrames = 1000;  // encoder frames: 4 * 1000 + 3 input frames
constexpr int64_t kProbeChunk = 16;     // chunk of the offline runs' cache probe

// The caches a stream of 1000 encoder frames leaves behind in chunks of chunk_size with
// left_chunks chunks of history.
CacheProbe probe_1000(CtcModel& model, Loader& loader, int64_t chunk_size, int64_t left_chunks) {
  ag::Tensor feats = probe_features(loader, 4 * kProbeFrames + 3);
  model.eval();
  return probe_cache(*model.encoder, feats, chunk_size, left_chunks);
}

// The `streaming` summary: latencies from the decode, caches measured at 1000 encoder frames.
nlohmann::json streaming_summary(CtcModel& model, Loader& loader, const Config& cfg,
                                 const EvalToolOptions& o, const EvalReport& r) {
  CacheProbe p = probe_1000(model, loader, o.chunk_size, o.left_chunks);
  double chunk_total = 0;
  for (double s : r.chunk_seconds) chunk_total += s;
  return {{"chunk", o.chunk_size}, {"left_chunks", o.left_chunks}, {"exact", cfg.model.causal},
          {"cache_bytes_measured_1000", p.attention_bytes},
          {"cache_bytes_formula_1000", p.formula_bytes}, {"conv_cache_bytes", p.conv_bytes},
          {"chunks", r.chunk_seconds.size()}, {"chunk_latency_ms_mean", mean_ms(r.chunk_seconds)},
          {"chunk_latency_ms_p95", p95_ms(r.chunk_seconds)},
          {"rtf", r.audio_seconds > 0 ? chunk_total / r.audio_seconds : 0.0}};
}
}  // namespace

nlohmann::json run_eval(const EvalToolOptions& o) {
  if (o.threads > 0) omp_set_num_threads(static_cast<int>(o.threads));
  const ag::Device device = select_device(o.device, "--device");
  AG_CHECK(!o.streaming || device == ag::Device::cpu,
           "--streaming decodes on the CPU only (leave out --device cuda)");
  std::string manifest = manifest_for(o.data);
  AG_CHECK(fs::exists(o.checkpoint), "checkpoint ", o.checkpoint, " not found");
  LoadedCheckpoint ckpt = read_checkpoint(o.checkpoint);
  AG_CHECK(!ckpt.config_yaml.empty(), o.checkpoint,
           " carries no config in its metadata (not written by asr-train?)");
  Config cfg = parse_config(ckpt.config_yaml, o.checkpoint + " (embedded config)");
  DataFolder folder{fs::path(cfg.data.train).parent_path().string()};
  std::unique_ptr<Tokenizer> tokenizer = load_tokenizer(folder.tokenizer());
  CtcModel model(cfg.model, tokenizer->vocab_size());
  try {
    model.load_state_dict(ckpt.model.tensors);
  } catch (const ag::Error& e) {
    throw ag::Error(o.checkpoint + ": " + e.what());
  }
  std::optional<Cmvn> cmvn;
  if (cfg.data.cmvn) cmvn = Cmvn::load(folder.cmvn());
  std::vector<Utterance> utts = read_manifest(manifest);
  AG_CHECK(!utts.empty(), manifest, " holds no utterances");
  Loader loader(utts, *tokenizer, cmvn, cfg.data, false, static_cast<uint64_t>(cfg.seed));
  AG_CHECK(!o.streaming || o.chunk_size > 0, "--streaming needs --chunk > 0, got ",
           o.chunk_size);
  if (o.streaming && !cfg.model.causal)
    std::cerr << "asr-eval: warning: " << o.checkpoint << " has non-causal convolutions; "
              << "streaming gives them zeros for the frames beyond each chunk, so it is not "
              << "exact (docs/streaming.md)\n";
  model.to(device);
  EvalReport r = evaluate(model, loader, *tokenizer,
                          {o.beam_size, o.chunk_size, o.left_chunks, o.streaming, device});
  model.to(ag::Device::cpu);  // the cache probes below stream on the CPU
  AG_CHECK(r.utterances > 0, "every utterance of ", manifest, " was skipped\n",
           loader.skips().summary());

  nlohmann::json j = {{"wer", r.words.rate()}, {"cer", r.chars.rate()}, {"sub", r.words.sub},
                      {"del", r.words.del}, {"ins", r.words.ins}, {"ref_words", r.words.ref},
                      {"ref_chars", r.chars.ref}, {"utterances", r.utterances},
                      {"skipped", loader.skips().total()}, {"rtf", r.rtf()}, {"loss", r.loss},
                      {"params", model.num_parameters()},
                      {"kv_cache_bytes_per_frame", model.encoder->cache_floats_per_frame() * 4},
                      {"kv_cache_bytes_fixed", model.encoder->cache_floats_fixed() * 4},
                      {"attention", cfg.model.attention.type}, {"encoder", cfg.model.type},
                      {"checkpoint", o.checkpoint}, {"data", manifest}, {"beam", o.beam_size},
                      {"chunk_size", o.chunk_size}, {"left_chunks", o.left_chunks},
                      {"device", o.device}};
  if (o.streaming) {
    j["streaming"] = streaming_summary(model, loader, cfg, o, r);
  } else {  // what a stream with all its history would hold after 1000 frames, measured
    CacheProbe p = probe_1000(model, loader, kProbeChunk, -1);
    j["kv_cache_bytes_1000_measured"] = p.attention_bytes;
    j["kv_cache_bytes_1000_formula"] = p.formula_bytes;
  }
  if (!o.out.empty()) {
    fs::create_directories(o.out);
    std::string ref, hyp, results;
    for (const auto& u : r.results) {
      ref += trn_line(u.ref, u.key);
      hyp += trn_line(u.hyp, u.key);
      results += u.key + "\tref: " + u.ref + "\n" + u.key + "\thyp: " + u.hyp + "\n" + u.key +
                 "\terrors: " + std::to_string(u.words.errors()) + "/" + std::to_string(u.words.ref) +
                 " words\n";
    }
    nn::write_file_atomic(o.out + "/ref.trn", ref);
    nn::write_file_atomic(o.out + "/hyp.trn", hyp);
    nn::write_file_atomic(o.out + "/results.txt", results);
    nn::write_file_atomic(o.out + "/eval.json", j.dump(2) + "\n");
  }
  return j;
}

// How an eval.json decoded: "offline", "chunk-masked c16 l-1" (full pass under the chunk
// mask) or "streaming c16 l-1".
std::string decoding_of(const nlohmann::json& j) {
  const char* kind = j.contains("streaming") ? "streaming" : "chunk-masked";
  const int64_t chunk = j.value("chunk_size", int64_t{0});
  if (chunk == 0) return "offline";
  return std::string(kind) + " c" + std::to_string(chunk) + " l" +
         std::to_string(j.value("left_chunks", int64_t{-1}));
}

std::string compare_table(const std::vector<std::string>& entries) {
  std::ostringstream os;
  os << "| experiment | encoder | attention | decoding | params | WER % | CER % | RTF "
        "| KV bytes/frame | KV cache MB at 1000 frames (measured) |\n"
     << "|---|---|---|---|---|---|---|---|---|---|\n";
  for (const auto& e : entries) {
    std::string path = fs::is_directory(e) ? e + "/eval.json" : e;
    std::ifstream in(path);
    AG_CHECK(in.good(), "asr-eval --compare: ", path, " not found (run asr-eval --out first)");
    nlohmann::json j = nlohmann::json::parse(in, nullptr, false);
    AG_CHECK(!j.is_discarded() && j.contains("wer"), "asr-eval --compare: ", path,
             " is not an eval.json");
    int64_t cache = j.contains("streaming")
                        ? j["streaming"].value("cache_bytes_measured_1000", int64_t{0})
                        : j.value("kv_cache_bytes_1000_measured", int64_t{0});
    os << std::fixed << "| " << e << " | " << j.value("encoder", "?") << " | "
       << j.value("attention", "?") << " | " << decoding_of(j) << " | "
       << j.value("params", int64_t{0}) << " | "
       << std::setprecision(2) << 100 * j.value("wer", 0.0) << " | " << 100 * j.value("cer", 0.0)
       << " | " << std::setprecision(3) << j.value("rtf", 0.0) << " | "
       << j.value("kv_cache_bytes_per_frame", int64_t{0}) << " | " << cache / 1e6 << " |\n";
  }
  return os.str();
}

}  // namespace asr
