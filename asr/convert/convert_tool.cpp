#include "asr/convert/convert_tool.h"

#include <omp.h>

#include <filesystem>
#include <iostream>

#include "asr/convert/conversion_quality.h"
#include "asr/data/manifest.h"
#include "asr/data/model_assets.h"
#include "asr/eval/eval_data.h"
#include "asr/eval/evaluate.h"
#include "asr/model/checkpoint.h"
#include "nn/safetensors.h"

namespace asr {
namespace fs = std::filesystem;

namespace {

// A data set to run the model over: its first `max_utts` utterances, read as asr-eval reads
// --data, with the model's tokenizer and CMVN statistics.
struct DataSet {
  std::unique_ptr<Loader> loader;
  std::vector<Batch> batches;
};

DataSet load_data(const Config& cfg, const ModelAssets& assets, const std::string& input,
                  const std::string& flag, const std::string& data,
                  const DataManifest& manifest, int64_t max_utts) {
  AG_CHECK(max_utts >= 1, flag, ": utterance count ", max_utts, " must be at least 1");
  check_folder_tokenizer(*assets.tokenizer, input, {manifest.folder()});
  DataSet s;
  std::vector<Utterance> utts = read_manifest(manifest.path());
  if (static_cast<int64_t>(utts.size()) > max_utts) utts.resize(static_cast<size_t>(max_utts));
  AG_CHECK(!utts.empty(), flag, " ", data, " holds no utterances");
  s.loader = std::make_unique<Loader>(utts, *assets.tokenizer, assets.cmvn, cfg.data, false,
                                      static_cast<uint64_t>(cfg.seed));
  s.loader->start_epoch(0);
  while (std::optional<Batch> b = s.loader->next()) s.batches.push_back(std::move(*b));
  AG_CHECK(!s.batches.empty(), flag, " ", data, ": every utterance was skipped\n",
           s.loader->skips().summary());
  std::cerr << "asr-convert: " << flag << " " << data << ": " << utts.size() << " utterances\n";
  return s;
}

int64_t vocab_size_of(const nn::SafetensorsFile& f, const std::string& path) {
  for (const auto& [name, t] : f.tensors)
    if (name == "ctc.ctc_lo.weight") return t.size(0);
  ag::detail::fail("--input ", path, " has no ctc.ctc_lo.weight (not a CTC model checkpoint?)");
}

double wer(AsrModel& model, DataSet& data, const Tokenizer& tokenizer, int beam, int64_t chunk) {
  return evaluate(model, *data.loader, tokenizer, {beam, chunk, -1}).words.rate();
}

// The flags that shaped the factorization, for the converted file's metadata.
std::string conversion_flags(const ConvertToolOptions& o) {
  std::string s = "asr-convert --part " + o.convert.part + " --to " + o.convert.to;
  for (const std::string& flag : rank_flags(o.convert)) s += " " + flag;
  if (o.convert.q_latent_dim) s += " --q-latent-dim " + std::to_string(*o.convert.q_latent_dim);
  if (o.convert.kv_heads) s += " --kv-heads " + std::to_string(*o.convert.kv_heads);
  if (o.convert.cache_input) s += " --cache-input";
  if (o.convert.output_weighted) s += " --weight-values-by-output";
  if (o.convert.balance_kv) s += " --balance-kv";
  if (!o.calibration.empty())
    s += " --calibration " + o.calibration + " --calibration-utts " +
         std::to_string(o.calibration_utts);
  if (o.sequential) s += " --sequential";
  if (o.calibration_chunk > 0) s += " --calibration-chunk " + std::to_string(o.calibration_chunk);
  return s;
}

}  // namespace

nlohmann::json run_convert(const ConvertToolOptions& o, std::ostream& out) {
  if (o.threads > 0) omp_set_num_threads(static_cast<int>(o.threads));
  AG_CHECK(!o.input.empty() && !o.output.empty(), "--input and --output are required");
  AG_CHECK(fs::is_regular_file(o.input), "--input ", o.input, ": file not found");
  nn::SafetensorsFile file = nn::load_safetensors(o.input);
  auto config = file.metadata.find("config");
  AG_CHECK(config != file.metadata.end() && !config->second.empty(), "--input ", o.input,
           " carries no config in its metadata (not written by asr-train?)");
  const Config cfg = parse_config(config->second, o.input + " (embedded config)");
  check_convert_options(cfg, o.convert);
  AG_CHECK(o.calibration.empty() || o.convert.to != "gqa",
           "--calibration applies to --to mla_simple or mla; gqa pools heads without data");
  AG_CHECK(!o.calibration.empty() || (!o.sequential && o.calibration_chunk == 0),
           "--sequential and --calibration-chunk need --calibration DATA");
  AG_CHECK(o.calibration.empty() || !o.convert.cache_input,
           "--cache-input caches the layer input as it is: --calibration has nothing to weigh");
  AG_CHECK(!o.sequential || (!o.convert.cache_budget && !o.convert.cache_fraction),
           "--sequential takes ranks per layer as given (--latent-dim, --latent-dims) or by "
           "--energy, not a cache budget (its allocation would move the ranks of the layers "
           "below each recalibrated one): run the budget once and pass its ranks as "
           "--latent-dims");
  AG_CHECK(o.calibration_chunk >= 0 && o.test_chunk >= 0, "--calibration-chunk ",
           o.calibration_chunk, " and --test-chunk ", o.test_chunk, " must not be negative");
  AG_CHECK(o.test_chunk == 0 || !o.test_quality.empty(), "--test-chunk needs --test-quality DATA");
  AG_CHECK(o.convert.part == "encoder" ||
               (!o.sequential && o.calibration_chunk == 0 && o.test_quality.empty()),
           "--part decoder takes --calibration, not --sequential, --calibration-chunk or "
           "--test-quality (evaluate the converted decoder with asr-eval --decode joint)");

  // The data sets first: a bad flag fails before any work.
  std::optional<DataManifest> calibration_data, test_data;
  if (!o.calibration.empty()) calibration_data.emplace(o.calibration, "--calibration", "");
  if (!o.test_quality.empty()) test_data.emplace(o.test_quality, "--test-quality", "");
  // The tokenizer and CMVN statistics go into the converted file; an older file without them
  // needs them looked up only to decode data.
  const bool decodes = calibration_data || test_data;
  std::optional<ModelAssets> assets = embedded_assets(file, o.input);
  if (decodes) assets = checkpoint_assets(file, cfg, o.input);

  AsrModel mha(cfg.model, vocab_size_of(file, o.input), cfg.hybrid.decoder_config());
  try {
    mha.load_state_dict(model_weights(file.tensors));
  } catch (const ag::Error& e) {
    throw ag::Error("--input " + o.input + ": " + e.what());
  }
  mha.eval();
  budget_floats(mha, o.convert);  // a budget below rank 1 per layer fails before any work
  std::vector<Matrix> grams;
  if (!o.calibration.empty()) {
    DataSet calibration = load_data(cfg, *assets, o.input, "--calibration", o.calibration,
                                      *calibration_data, o.calibration_utts);
    grams = input_grams(o.convert.part == "decoder"
                            ? capture_decoder_inputs(mha, calibration.batches)
                            : capture_attention_inputs(mha, calibration.batches,
                                                       o.calibration_chunk));
    if (o.sequential)
      grams = sequential_grams(cfg, mha, o.convert, std::move(grams), calibration.batches,
                               o.calibration_chunk, std::cerr);
  }
  Conversion conversion = convert_model(cfg, mha, o.convert, grams);

  const nn::SafetensorsFile attached =
      assets ? embed_assets(*assets->tokenizer, assets->cmvn) : nn::SafetensorsFile{};
  nn::Metadata meta = file.metadata;
  for (const auto& [key, value] : attached.metadata) meta.erase(key);
  meta["config"] = to_yaml(conversion.config);
  meta["converted_from"] = o.input;
  meta["conversion"] = conversion_flags(o);
  if (fs::path(o.output).has_parent_path())
    fs::create_directories(fs::path(o.output).parent_path());
  save_model_file(o.output, *conversion.model, meta, attached);
  std::cerr << "asr-convert: wrote " << o.output << "\n";

  QualityReport report = conversion_summary(mha, conversion);
  if (!o.test_quality.empty()) {
    DataSet test = load_data(cfg, *assets, o.input, "--test-quality", o.test_quality, *test_data,
                             o.quality_utts);
    report = measure_quality(mha, conversion,
                             capture_attention_inputs(mha, test.batches, o.test_chunk), test.batches);
    report.wer_before = wer(mha, test, *assets->tokenizer, o.beam_size, o.test_chunk);
    report.wer_after = wer(*conversion.model, test, *assets->tokenizer, o.beam_size, o.test_chunk);
  }
  out << format_report(report);
  nlohmann::json j = to_json(report);
  j["input"] = o.input;
  j["output"] = o.output;
  j["to"] = o.convert.to;
  j["calibration"] = o.calibration;
  j["conversion"] = conversion_flags(o);
  j["test_chunk"] = o.test_chunk;
  if (!o.report.empty()) nn::write_file_atomic(o.report, j.dump(2) + "\n");
  return j;
}

}  // namespace asr
