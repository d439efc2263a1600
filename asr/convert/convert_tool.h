// asr-convert as a library: load an MHA checkpoint, optionally collect calibration inputs,
// convert (asr/convert.h), write the converted checkpoint with its config in __metadata__,
// optionally measure the quality on a data set (asr/conversion_quality.h).
#pragma once
#include <iosfwd>
#include <string>

#include <nlohmann/json.hpp>

#include "asr/convert/convert.h"

namespace asr {

struct ConvertToolOptions {
  std::string input, output;  // checkpoints (safetensors with the config in __metadata__)
  ConvertOptions convert;
  std::string calibration;         // data set for the calibrated factorization ("": plain SVD)
  int64_t calibration_utts = 200;  // first utterances of it used
  bool sequential = false;         // each layer's statistics from the model converted below it
  int64_t calibration_chunk = 0;   // calibration under a chunk mask of C encoder frames (0: none)
  std::string test_quality;        // data set to compare the models on ("": none)
  int64_t quality_utts = 100;
  int64_t test_chunk = 0;  // quality and WER under a chunk mask of C encoder frames (0: none)
  std::string report;   // JSON report path ("": none)
  int beam_size = 1;    // WER decoding (1: greedy)
  int64_t threads = 0;  // 0: all cores
};

// Runs the conversion; prints the summary table to `out`, progress to stderr. Returns the
// report (conversion_quality.h's to_json plus input, output, to, calibration). Throws ag::Error
// naming the flag and value for bad options, missing files or a checkpoint without a config.
nlohmann::json run_convert(const ConvertToolOptions& o, std::ostream& out);

}  // namespace asr
