// asr-convert --input CKPT --output CKPT --to mla_simple|mla|gqa
//   [--latent-dim R | --latent-dims R0,R1,... | --energy E | --cache-budget BYTES |
//    --cache-fraction F | --cache-input] [--q-latent-dim Q] [--weight-values-by-output]
//   [--balance-kv] [--kv-heads G] [--calibration DATA [--sequential] [--calibration-chunk C]]
//   [--test-quality DATA [--test-chunk C]] [--report R.json]
// docs/conversion.md.
#include <CLI/CLI.hpp>
#include <iostream>

#include "asr/convert/convert_tool.h"

int main(int argc, char** argv) {
  CLI::App app{"Converts an MHA checkpoint to latent (MLA) or grouped-query (GQA) attention."};
  asr::ConvertToolOptions o;
  asr::ConvertOptions& c = o.convert;
  app.add_option("--input", o.input, "MHA checkpoint written by asr-train")->required();
  app.add_option("--output", o.output, "converted checkpoint to write")->required();
  app.add_option("--to", c.to, "target attention: mla_simple, mla or gqa")->required();
  app.add_option("--part", c.part,
                 "whose attentions: encoder, or decoder (a hybrid model's self- and "
                 "cross-attentions, one --latent-dim for all)")
      ->check(CLI::IsMember({"encoder", "decoder"}));
  app.add_option("--latent-dim", c.latent_dim, "mla*: latent size R of every layer (1..2 d_model)");
  app.add_option("--latent-dims", c.latent_dims,
                 "mla*: latent size of each layer, comma-separated (num_layers entries)")
      ->delimiter(',');
  app.add_option("--energy", c.energy,
                 "mla*: per-layer R keeping this fraction E of sum s^2, (0, 1]");
  app.add_option("--cache-budget", c.cache_budget,
                 "mla*: per-layer R within this many fp32 cache bytes per frame (all layers)");
  app.add_option("--cache-fraction", c.cache_fraction,
                 "mla*: per-layer R within this fraction (0, 1] of the MHA cache bytes per frame");
  app.add_option("--q-latent-dim", c.q_latent_dim, "mla: low-rank query size Q (1..d_model)");
  app.add_option("--kv-heads", c.kv_heads, "gqa: key/value heads G (dividing num_heads)");
  app.add_flag("--cache-input", c.cache_input,
               "mla*: cache each layer's input x itself (latent d_model; exact)");
  app.add_flag("--weight-values-by-output", c.output_weighted,
               "mla*: value error measured through the output projection");
  app.add_flag("--balance-kv", c.balance_kv,
               "mla*: keys and values scaled to equal norms before the joint SVD (TransMLA)");
  app.add_option(
      "--calibration", o.calibration,
      "data set (manifest, split DIR/train, data folder) for the calibrated factorization");
  app.add_option("--calibration-utts", o.calibration_utts, "calibration utterances used")
      ->capture_default_str();
  app.add_flag("--sequential", o.sequential,
               "calibrate each layer on the inputs the model converted below it gives");
  app.add_option("--calibration-chunk", o.calibration_chunk,
                 "calibrate under a streaming chunk mask of C encoder frames (0: full context)")
      ->capture_default_str();
  app.add_option("--test-quality", o.test_quality, "data set to compare the models on");
  app.add_option("--test-utts", o.quality_utts, "utterances of --test-quality used")
      ->capture_default_str();
  app.add_option("--test-chunk", o.test_chunk,
                 "compare and decode under a streaming chunk mask of C encoder frames (0: full)")
      ->capture_default_str();
  app.add_option("--report", o.report, "JSON report to write");
  app.add_option("--beam", o.beam_size, "CTC prefix beam size for the WER (1: greedy)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--threads", o.threads, "CPU threads (0: all cores)");
  CLI11_PARSE(app, argc, argv);
  try {
    asr::run_convert(o, std::cout);
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "asr-convert: " << e.what() << "\n";
    return 1;
  }
}
