#include "asr/eval/eval_tool.h"

#include <omp.h>

#include <cmath>
#include <cstdio>
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
#include "asr/data/model_assets.h"
#include "asr/eval/eval_data.h"
#include "asr/eval/streaming_eval.h"
#include "asr/eval/significance.h"

namespace asr {
namespace fs = std::filesystem;

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
CacheProbe probe_1000(AsrModel& model, Loader& loader, int64_t chunk_size, int64_t left_chunks,
                      nn::CacheDtype dtype = nn::CacheDtype::f32) {
  ag::Tensor feats = probe_features(loader, 4 * kProbeFrames + 3);
  model.eval();
  return probe_cache(*model.encoder, feats, chunk_size, left_chunks, dtype);
}

// The decoder's caches measured on the probe's 1000 encoder frames: the cross-attention
// memory computed once, and the self-attention caches after 10 greedy steps of one hypothesis.
nlohmann::json decoder_cache_probe(AsrModel& model, Loader& loader) {
  ag::NoGradGuard no_grad;
  model.eval();
  ag::Tensor feats = probe_features(loader, 4 * kProbeFrames + 3);
  ag::Tensor memory = model.encoder->forward(feats, {feats.size(1)}).out;  // [1, 1000, d]
  const nn::TransformerDecoder& dec = *model.decoder;
  nn::DecoderState state = dec.start(memory);
  constexpr int64_t kTokens = 10;
  int64_t token = model.sos_eos();
  for (int64_t i = 0; i < kTokens; ++i)
    token = ag::argmax(dec.step(ag::from_int_vector({token}, {1}), state), -1).to_int_vector()[0];
  const int64_t frames = memory.size(1);
  return {{"self_attention", dec.config().self_attention.type},
          {"src_attention", dec.config().src_attention.type},
          {"self_cache_bytes_per_token_measured", state.self_bytes() / kTokens},
          {"self_cache_bytes_per_token_formula",
           dec.self_cache_bytes(kTokens) / kTokens},
          {"src_cache_bytes_per_frame_measured", state.src_bytes() / frames},
          {"src_cache_bytes_per_frame_formula", dec.src_cache_bytes(frames) / frames},
          {"probe_frames", frames}, {"probe_tokens", kTokens}};
}

nn::CacheDtype cache_dtype_of(const std::string& name) {
  AG_CHECK(name == "f32" || name == "int8", "--cache-dtype '", name, "' is not f32 or int8");
  return name == "int8" ? nn::CacheDtype::int8 : nn::CacheDtype::f32;
}

// The `streaming` summary: latencies from the decode, caches measured at 1000 encoder frames.
nlohmann::json streaming_summary(AsrModel& model, Loader& loader, const Config& cfg,
                                 const EvalToolOptions& o, const EvalReport& r) {
  CacheProbe p =
      probe_1000(model, loader, o.chunk_size, o.left_chunks, cache_dtype_of(o.cache_dtype));
  double chunk_total = 0;
  for (double s : r.chunk_seconds) chunk_total += s;
  return {{"chunk", o.chunk_size}, {"left_chunks", o.left_chunks},
          {"cache_dtype", o.cache_dtype}, {"exact", cfg.model.causal},
          {"cache_bytes_measured_1000", p.attention_bytes},
          {"cache_bytes_formula_1000", p.formula_bytes}, {"conv_cache_bytes", p.conv_bytes},
          {"cache_bytes_allocated_1000", p.capacity_bytes},
          {"shared_weight_bytes_1000", p.shared_bytes},
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
  AG_CHECK(fs::exists(o.checkpoint), "checkpoint ", o.checkpoint, " not found");
  LoadedCheckpoint ckpt = read_checkpoint(o.checkpoint);
  AG_CHECK(!ckpt.config_yaml.empty(), o.checkpoint,
           " carries no config in its metadata (not written by asr-train?)");
  Config cfg = parse_config(ckpt.config_yaml, o.checkpoint + " (embedded config)");
  ModelAssets assets = checkpoint_assets(ckpt.model, cfg, o.checkpoint);
  AsrModel model(cfg.model, assets.tokenizer->vocab_size(), cfg.hybrid.decoder_config());
  try {
    model.load_state_dict(model_weights(ckpt.model.tensors));
  } catch (const ag::Error& e) {
    throw ag::Error(o.checkpoint + ": " + e.what());
  }
  const DataManifest data(o.data, "--data", o.out);
  const std::string& manifest = data.path();
  check_folder_tokenizer(*assets.tokenizer, o.checkpoint, {data.folder()});
  std::vector<Utterance> utts = read_manifest(manifest);
  AG_CHECK(!utts.empty(), manifest, " holds no utterances");
  Loader loader(utts, *assets.tokenizer, assets.cmvn, cfg.data, false, static_cast<uint64_t>(cfg.seed));
  AG_CHECK(!o.streaming || o.chunk_size > 0, "--streaming needs --chunk > 0, got ",
           o.chunk_size);
  const nn::CacheDtype cache_dtype = cache_dtype_of(o.cache_dtype);
  AG_CHECK(o.streaming || cache_dtype == nn::CacheDtype::f32, "--cache-dtype ", o.cache_dtype,
           " is for --streaming (the offline pass keeps no cache)");
  if (o.streaming && !cfg.model.causal)
    std::cerr << "asr-eval: warning: " << o.checkpoint << " has non-causal convolutions; "
              << "streaming gives them zeros for the frames beyond each chunk, so it is not "
              << "exact (docs/streaming.md)\n";
  EvalOptions eo{o.beam_size, o.chunk_size, o.left_chunks, o.streaming, device, cache_dtype};
  eo.decode = decode_of(o.decode);
  if (o.decode == "ctc_greedy") eo.beam_size = 1;
  eo.decode_ctc_weight = o.ctc_weight;
  eo.length_bonus = o.length_bonus;
  AG_CHECK(eo.decode == Decode::ctc || model.hybrid(), "--decode ", o.decode, " needs a hybrid ",
           "model (model.decoder: transformer); ", o.checkpoint, " is CTC-only");
  AG_CHECK(o.ctc_weight >= 0 && o.ctc_weight <= 1, "--ctc-weight ", o.ctc_weight,
           " outside [0, 1]");
  model.to(device);
  EvalReport r = evaluate(model, loader, *assets.tokenizer, eo);
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
                      {"checkpoint", o.checkpoint},
                      {"data", data.temporary() ? o.data : manifest}, {"beam", eo.beam_size},
                      {"decode", decode_name(eo.decode, eo.beam_size)},
                      {"chunk_size", o.chunk_size}, {"left_chunks", o.left_chunks},
                      {"device", o.device}};
  if (eo.decode != Decode::ctc) {
    j["ctc_weight"] = o.ctc_weight;
    if (eo.decode == Decode::joint) j["length_bonus"] = o.length_bonus;
  }
  if (model.hybrid()) j["decoder"] = decoder_cache_probe(model, loader);
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
// mask) or "streaming c16 l-1", followed by the search when not the CTC prefix beam
// (" joint", " attention_rescoring", " ctc_greedy").
std::string decoding_of(const nlohmann::json& j) {
  const std::string search = j.value("decode", "ctc_beam");
  const std::string tail = search == "ctc_beam" ? "" : " " + search;
  const char* kind = j.contains("streaming") ? "streaming" : "chunk-masked";
  const int64_t chunk = j.value("chunk_size", int64_t{0});
  if (chunk == 0) return "offline" + tail;
  std::string d = std::string(kind) + " c" + std::to_string(chunk) + " l" +
                  std::to_string(j.value("left_chunks", int64_t{-1}));
  if (j.contains("streaming") && j["streaming"].value("cache_dtype", "f32") == "int8") d += " int8";
  return d + tail;
}

namespace {
// Row 2..N against row 1 (folders holding ref.trn and hyp.trn): paired bootstrap and MAPSSWE.
nlohmann::json significance_json(const std::string& first_dir, const std::string& dir) {
  const PairedRuns runs = read_paired(first_dir, dir);
  const BootstrapResult b = paired_bootstrap(runs.words);
  const MapssweResult m = mapsswe(runs.words);
  // The same bootstrap over characters: the CER difference (the comparison that still
  // separates systems whose WER is near 100 %).
  const BootstrapResult c = paired_bootstrap(runs.characters);
  return {{"delta_wer", b.delta}, {"ci_low", b.ci_low}, {"ci_high", b.ci_high},
          {"delta_wer_rel", b.relative(b.delta)}, {"ci_low_rel", b.relative(b.ci_low)},
          {"ci_high_rel", b.relative(b.ci_high)}, {"prob_improvement", b.prob_improvement},
          {"resamples", b.resamples}, {"seed", b.seed},
          {"cer", {{"delta", c.delta}, {"ci_low", c.ci_low}, {"ci_high", c.ci_high},
                   {"delta_rel", c.relative(c.delta)}, {"ci_low_rel", c.relative(c.ci_low)},
                   {"ci_high_rel", c.relative(c.ci_high)},
                   {"prob_improvement", c.prob_improvement}}},
          {"mapsswe", {{"segments", m.segments}, {"min_good", m.min_good}, {"mean", m.mean},
                       {"sd", m.sd}, {"z", m.z}, {"p", m.p}}}};
}

std::string printed(const char* format, double x) {
  char buf[64];
  std::snprintf(buf, sizeof buf, format, x);
  return buf;
}

// "+1.20 [+0.35, +2.10] (+4.8% rel)": percentage points; no "rel" for a baseline at 0%.
// v's keys `delta`, "ci_low", "ci_high" and `rel`.
std::string delta_cell(const nlohmann::json& v, const char* delta, const char* rel) {
  auto points = [&](const char* key) { return printed("%+.2f", 100 * v[key].get<double>()); };
  std::string cell = points(delta) + " [" + points("ci_low") + ", " + points("ci_high") + "]";
  if (std::isfinite(v[rel].get<double>()))
    cell += " (" + printed("%+.1f", 100 * v[rel].get<double>()) + "% rel)";
  return cell;
}
}  // namespace

nlohmann::json compare_json(const std::vector<std::string>& entries) {
  nlohmann::json rows = nlohmann::json::array();
  std::string first_dir;
  for (const auto& e : entries) {
    const bool folder = fs::is_directory(e);
    std::string path = folder ? e + "/eval.json" : e;
    std::ifstream in(path);
    AG_CHECK(in.good(), "--compare: ", path, " not found (run asr-eval --out first)");
    nlohmann::json j = nlohmann::json::parse(in, nullptr, false);
    AG_CHECK(!j.is_discarded() && j.contains("wer"), "--compare: ", path,
             " is not an eval.json");
    int64_t cache = j.contains("streaming")
                        ? j["streaming"].value("cache_bytes_measured_1000", int64_t{0})
                        : j.value("kv_cache_bytes_1000_measured", int64_t{0});
    // A hybrid model's decoder attentions follow the encoder's: "mha, decoder mla/mla".
    std::string attention = j.value("attention", "?");
    if (j.contains("decoder"))
      attention += ", decoder " + j["decoder"].value("self_attention", "?") + "/" +
                   j["decoder"].value("src_attention", "?");
    nlohmann::json row = {{"experiment", e}, {"encoder", j.value("encoder", "?")},
                          {"attention", attention}, {"decoding", decoding_of(j)},
                          {"params", j.value("params", int64_t{0})}, {"wer", j.value("wer", 0.0)},
                          {"cer", j.value("cer", 0.0)}, {"rtf", j.value("rtf", 0.0)},
                          {"kv_cache_bytes_per_frame", j.value("kv_cache_bytes_per_frame", int64_t{0})},
                          {"kv_cache_bytes_1000_measured", cache}};
    // ref.trn and hyp.trn lie beside eval.json.
    const std::string dir = folder ? e : fs::absolute(path).parent_path().string();
    if (rows.empty())
      first_dir = dir;
    else
      row["vs_first"] = significance_json(first_dir, dir);
    rows.push_back(std::move(row));
  }
  return rows;
}

std::string compare_table(const std::vector<std::string>& entries) {
  std::ostringstream os;
  os << "| experiment | encoder | attention | decoding | params | WER % | CER % | RTF "
        "| KV bytes/frame | KV cache MB at 1000 frames (measured) | ΔWER vs first (95% CI) "
        "| P(improvement) | MAPSSWE p | ΔCER vs first (95% CI) |\n"
     << "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n";
  for (const auto& r : compare_json(entries)) {
    os << std::fixed << "| " << r["experiment"].get<std::string>() << " | "
       << r["encoder"].get<std::string>() << " | " << r["attention"].get<std::string>() << " | "
       << r["decoding"].get<std::string>() << " | " << r["params"].get<int64_t>() << " | "
       << std::setprecision(2) << 100 * r["wer"].get<double>() << " | "
       << 100 * r["cer"].get<double>() << " | " << std::setprecision(3) << r["rtf"].get<double>()
       << " | " << r["kv_cache_bytes_per_frame"].get<int64_t>() << " | "
       << r["kv_cache_bytes_1000_measured"].get<int64_t>() / 1e6 << " | ";
    if (r.contains("vs_first")) {
      const nlohmann::json& v = r["vs_first"];
      os << delta_cell(v, "delta_wer", "delta_wer_rel") << " | "
         << printed("%.1f%%", 100 * v["prob_improvement"].get<double>()) << " | "
         << printed("%.2g", v["mapsswe"]["p"].get<double>()) << " | "
         << delta_cell(v["cer"], "delta", "delta_rel") << " |\n";
    } else {
      os << "baseline | | | baseline |\n";
    }
  }
  return os.str();
}

}  // namespace asr
