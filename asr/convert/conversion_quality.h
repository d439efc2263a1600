// How close a converted model stays to its MHA original, on real features: per layer the
// attention output on the very inputs the MHA model gives that layer, end to end the logits,
// and (filled in by the caller) the WER of both.
#pragma once
#include <iosfwd>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "asr/data/batching.h"
#include "asr/convert/convert.h"

namespace asr {

// One layer's attention inputs for one batch, as its forward received them.
struct LayerInput {
  Tensor x;                      // [B, T', d]
  Tensor mask, pos_emb;          // as forward takes them (may be undefined)
  std::vector<int64_t> lengths;  // real frames of each utterance (the rest is padding)
};

struct Captured {
  std::vector<std::vector<LayerInput>> layers;  // [layer][batch]
  std::vector<nn::EncoderOutput> logits;        // [batch]: the model's logits [B, T', vocab]
  int64_t chunk_size = 0;                       // the chunk mask they ran under (0: none)
};

// Runs the model (mha or mla) over `batches` (eval mode, no grad), in full context or under
// a streaming chunk mask of chunk_size encoder frames with all history, and keeps the inputs
// reaching each of its attention layers, and its logits.
Captured capture_attention_inputs(AsrModel& model, const std::vector<Batch>& batches,
                                  int64_t chunk_size = 0);

// The same for a hybrid model's decoder, decoding the batches' transcripts teacher-forced:
// per decoder layer the inputs of its self-attention (the normed tokens [B, L, d], L real
// tokens <sos> y) and of its cross-attention (the encoder's output [B, T', d]), in that
// order, as convert_model's part decoder lists them. No logits.
Captured capture_decoder_inputs(AsrModel& model, const std::vector<Batch>& batches);

// Per layer the Gram matrix sum_t x_t x_t^T [d, d] over the real frames of the inputs.
std::vector<Matrix> input_grams(const Captured& captured);

// Sequential calibration (as SVD-LLM and ASVD): layer i's Gram matrix from the inputs it gets in
// the model converted (as `o` asks) with the statistics of layers 0 .. i-1 gathered so far, so
// that each layer's factorization sees the errors of the converted layers below it. Ranks as
// given or by energy; a cache budget is refused (its allocation would move the ranks of the
// layers below i after their inputs were taken). `grams`:
// the MHA model's, from `batches` under the same chunk mask (layer 0's stays). One line per
// layer on `log`.
std::vector<Matrix> sequential_grams(const Config& cfg, const AsrModel& mha,
                                     const ConvertOptions& o, std::vector<Matrix> grams,
                                     const std::vector<Batch>& batches, int64_t chunk_size,
                                     std::ostream& log);

struct LayerQuality {
  int64_t layer = 0;
  LayerConversion conversion;  // latent_dim, energy_kept, weight_relative_error
  double relative_error =
      -1;  // ||y_conv - y_mha|| / ||y_mha|| of the attention outputs (-1: not measured)
};

struct QualityReport {
  std::vector<LayerQuality> layers;
  double logits_relative_error =
      -1;  // ||logits_conv - logits_mha|| / ||logits_mha|| (-1: not measured)
  double wer_before = -1, wer_after = -1;                                       // -1: not measured
  int64_t cache_floats_per_frame_before = 0, cache_floats_per_frame_after = 0;  // all layers
  int64_t cache_budget_floats = 0;  // the cache budget's floats per frame (0: no budget)
  int64_t utterances = 0;
};

// The layers' conversion summaries and the cache sizes, nothing measured on data.
QualityReport conversion_summary(const AsrModel& mha, const Conversion& conversion);
// conversion_summary, and `conversion.model` compared with `mha` on the captured inputs (real
// frames only; the logits under the captured chunk mask).
QualityReport measure_quality(AsrModel& mha, const Conversion& conversion, const Captured& captured,
                              const std::vector<Batch>& batches);

// {layers: [{layer, latent_dim, energy_kept, weight_relative_error, relative_error}],
//  logits_relative_error, wer_before, wer_after, cache_floats_per_frame_before/after,
//  cache_bytes_per_frame_before/after, cache_budget_bytes_per_frame (0: none), utterances}
nlohmann::json to_json(const QualityReport& r);
// The report as a readable table.
std::string format_report(const QualityReport& r);

}  // namespace asr
