#include "asr/convert/conversion_quality.h"

#include <cmath>
#include <iomanip>
#include <ostream>
#include <sstream>

#include "autograd/autograd.h"
#include "nn/branchformer_block.h"
#include "nn/conformer_block.h"
#include "nn/mha.h"

namespace asr {

namespace {

// The attention module of each layer, in order.
std::vector<nn::Attention*> attention_modules(AsrModel& m) {
  std::vector<nn::Attention*> r;
  for (const auto& block : *m.encoder->layers) {
    if (auto* c = dynamic_cast<nn::ConformerBlock*>(block.get())) r.push_back(c->self_attn.get());
    if (auto* b = dynamic_cast<nn::BranchformerBlock*>(block.get())) r.push_back(b->attn.get());
  }
  return r;
}

// Clears the observers it was given when it goes out of scope.
struct ObserverReset {
  std::vector<nn::AttentionBase*> layers;
  ~ObserverReset() {
    for (auto* a : layers) a->input_observer = nullptr;
  }
};

// Squared norms over the real frames of a, b [B, T, C]: diff += ||a - b||^2, ref += ||b||^2.
void accumulate(const Tensor& a, const Tensor& b, const std::vector<int64_t>& lengths, double& diff,
                double& ref) {
  AG_CHECK(a.shape() == b.shape(), "conversion quality: outputs ", ag::shape_str(a.shape()),
           " and ", ag::shape_str(b.shape()), " differ in shape");
  const int64_t T = a.size(1), C = a.size(2);
  const float *pa = a.data(), *pb = b.data();
  for (size_t n = 0; n < lengths.size(); ++n)
    for (int64_t i = static_cast<int64_t>(n) * T * C;
         i < (static_cast<int64_t>(n) * T + lengths[n]) * C; ++i) {
      const double e = static_cast<double>(pa[i]) - pb[i];
      diff += e * e;
      ref += static_cast<double>(pb[i]) * pb[i];
    }
}

double ratio(double diff, double ref) { return ref > 0 ? std::sqrt(diff / ref) : 0; }

// fp32 cache floats -> bytes, as Encoder::cache_bytes_formula counts them.
int64_t bytes(int64_t floats) { return floats * static_cast<int64_t>(sizeof(float)); }

}  // namespace

Captured capture_attention_inputs(AsrModel& model, const std::vector<Batch>& batches,
                                  int64_t chunk_size) {
  const bool was_training = model.is_training();
  model.eval();
  ag::NoGradGuard no_grad;
  ObserverReset reset;
  Captured c;
  c.chunk_size = chunk_size;
  std::vector<int64_t> lengths;  // real encoder frames of the batch being run
  const std::vector<nn::Attention*> modules = attention_modules(model);
  c.layers.resize(modules.size());
  for (size_t i = 0; i < modules.size(); ++i) {
    auto* a = dynamic_cast<nn::AttentionBase*>(modules[i]);
    AG_CHECK(a && a->config().type != "linear", "capture_attention_inputs: layer ", i,
             " has no softmax attention");
    reset.layers.push_back(a);
    a->input_observer = [&layers = c.layers[i], &lengths](const Tensor& x, const Tensor& mask,
                                                          const Tensor& pos_emb) {
      layers.push_back({x, mask, pos_emb, lengths});
    };
  }
  for (const Batch& b : batches) {
    lengths.clear();
    for (int64_t n : b.lengths) lengths.push_back(nn::Conv2dSubsampling::output_length(n));
    c.logits.push_back(model.logits(b.feats, b.lengths, chunk_size));
  }
  model.train(was_training);
  return c;
}

Captured capture_decoder_inputs(AsrModel& model, const std::vector<Batch>& batches) {
  AG_CHECK(model.hybrid(), "capture_decoder_inputs: the model has no decoder");
  const bool was_training = model.is_training();
  model.eval();
  ag::NoGradGuard no_grad;
  ObserverReset reset;
  Captured c;
  std::vector<int64_t> tokens, frames;  // real decoder steps and encoder frames of the batch
  c.layers.resize(2 * model.decoder->decoders->size());
  size_t i = 0;
  for (const auto& layer : *model.decoder->decoders) {
    for (nn::Attention* module : {layer->self_attn.get(), layer->src_attn.get()}) {
      auto* a = dynamic_cast<nn::AttentionBase*>(module);
      AG_CHECK(a, "capture_decoder_inputs: a decoder attention without softmax");
      reset.layers.push_back(a);
      const std::vector<int64_t>& lengths = module == layer->self_attn.get() ? tokens : frames;
      a->input_observer = [&inputs = c.layers[i++], &lengths](
                              const Tensor& x, const Tensor& mask, const Tensor& pos_emb) {
        inputs.push_back({x, mask, pos_emb, lengths});
      };
    }
  }
  for (const Batch& b : batches) {
    nn::EncoderOutput enc = model.encoder->forward(b.feats, b.lengths);
    frames = enc.lengths;
    tokens.clear();
    for (const auto& y : b.targets) tokens.push_back(static_cast<int64_t>(y.size()) + 1);
    model.attention_loss(enc.out, enc.lengths, b.targets, 0.0f);
  }
  model.train(was_training);
  return c;
}

std::vector<Matrix> input_grams(const Captured& captured) {
  std::vector<Matrix> grams;
  for (const auto& layer : captured.layers) {
    const int64_t d = layer.empty() ? 0 : layer.front().x.size(2);
    Matrix g(d, d);
    for (const LayerInput& in : layer) {
      const int64_t T = in.x.size(1);
      const float* p = in.x.data();
      for (size_t n = 0; n < in.lengths.size(); ++n)
        for (int64_t t = 0; t < in.lengths[n]; ++t) {
          const float* x = p + (static_cast<int64_t>(n) * T + t) * d;
          for (int64_t i = 0; i < d; ++i)
            for (int64_t j = 0; j <= i; ++j) g(i, j) += static_cast<double>(x[i]) * x[j];
        }
    }
    for (int64_t i = 0; i < d; ++i)
      for (int64_t j = 0; j < i; ++j) g(j, i) = g(i, j);
    grams.push_back(std::move(g));
  }
  return grams;
}

std::vector<Matrix> sequential_grams(const Config& cfg, const AsrModel& mha,
                                     const ConvertOptions& o, std::vector<Matrix> grams,
                                     const std::vector<Batch>& batches, int64_t chunk_size,
                                     std::ostream& log) {
  AG_CHECK(!o.cache_budget && !o.cache_fraction, "sequential calibration takes ranks as given "
           "or by energy, not a cache budget (the allocation would move earlier layers' ranks)");
  for (size_t i = 1; i < grams.size(); ++i) {
    // Input i depends on layers 0 .. i-1 only, whose ranks (given, or by energy from their
    // own statistics) and statistics are final by now.
    Conversion partial = convert_model(cfg, mha, o, grams);
    grams[i] = input_grams(capture_attention_inputs(*partial.model, batches, chunk_size))[i];
    log << "asr-convert: --sequential: layer " << i << " recalibrated\n";
  }
  return grams;
}

QualityReport conversion_summary(const AsrModel& mha, const Conversion& conversion) {
  QualityReport r;
  for (size_t i = 0; i < conversion.layers.size(); ++i)
    r.layers.push_back({static_cast<int64_t>(i), conversion.layers[i]});
  if (conversion.part == "decoder") {  // the cross-attention memory per encoder frame
    auto floats = [](const AsrModel& m) {
      return m.decoder->src_cache_bytes(1) / static_cast<int64_t>(sizeof(float));
    };
    r.cache_floats_per_frame_before = floats(mha);
    r.cache_floats_per_frame_after = floats(*conversion.model);
  } else {
    r.cache_floats_per_frame_before = mha.encoder->cache_floats_per_frame();
    r.cache_floats_per_frame_after = conversion.model->encoder->cache_floats_per_frame();
  }
  r.cache_budget_floats = conversion.budget_floats;
  return r;
}

QualityReport measure_quality(AsrModel& mha, const Conversion& conversion, const Captured& captured,
                              const std::vector<Batch>& batches) {
  AG_CHECK(captured.logits.size() == batches.size(), "measure_quality: ", captured.logits.size(),
           " captured batches for ", batches.size());
  const bool was_training = mha.is_training();
  mha.eval();
  conversion.model->eval();
  ag::NoGradGuard no_grad;
  std::vector<nn::Attention*> before = attention_modules(mha);
  std::vector<nn::Attention*> after = attention_modules(*conversion.model);
  QualityReport r = conversion_summary(mha, conversion);
  for (size_t i = 0; i < before.size(); ++i) {
    double diff = 0, ref = 0;
    for (const LayerInput& in : captured.layers[i])
      accumulate(after[i]->forward(in.x, in.mask, in.pos_emb),
                 before[i]->forward(in.x, in.mask, in.pos_emb), in.lengths, diff, ref);
    r.layers[i].relative_error = ratio(diff, ref);
  }
  double diff = 0, ref = 0;
  for (size_t j = 0; j < batches.size(); ++j) {
    nn::EncoderOutput out =
        conversion.model->logits(batches[j].feats, batches[j].lengths, captured.chunk_size);
    accumulate(out.out, captured.logits[j].out, out.lengths, diff, ref);
    r.utterances += batches[j].size();
  }
  r.logits_relative_error = ratio(diff, ref);
  mha.train(was_training);
  return r;
}

nlohmann::json to_json(const QualityReport& r) {
  nlohmann::json layers = nlohmann::json::array();
  for (const auto& l : r.layers)
    layers.push_back({{"layer", l.layer},
                      {"latent_dim", l.conversion.latent_dim},
                      {"energy_kept", l.conversion.energy_kept},
                      {"weight_relative_error", l.conversion.weight_relative_error},
                      {"relative_error", l.relative_error}});
  return {{"layers", layers},
          {"logits_relative_error", r.logits_relative_error},
          {"wer_before", r.wer_before},
          {"wer_after", r.wer_after},
          {"cache_floats_per_frame_before", r.cache_floats_per_frame_before},
          {"cache_floats_per_frame_after", r.cache_floats_per_frame_after},
          {"cache_bytes_per_frame_before", bytes(r.cache_floats_per_frame_before)},
          {"cache_bytes_per_frame_after", bytes(r.cache_floats_per_frame_after)},
          {"cache_budget_bytes_per_frame", bytes(r.cache_budget_floats)},
          {"utterances", r.utterances}};
}

std::string format_report(const QualityReport& r) {
  std::ostringstream os;
  os << "layer  latent  energy kept  weight rel err  attention rel err\n";
  for (const auto& l : r.layers) {
    os << std::fixed << std::setw(5) << l.layer << std::setw(8) << l.conversion.latent_dim
       << std::setw(13) << std::setprecision(4);
    if (l.conversion.energy_kept >= 0)
      os << l.conversion.energy_kept;
    else
      os << "-";
    os << std::scientific << std::setprecision(3) << std::setw(16)
       << l.conversion.weight_relative_error << std::setw(19);
    if (l.relative_error >= 0)
      os << l.relative_error << "\n";
    else
      os << "-"
         << "\n";
  }
  if (r.logits_relative_error >= 0)
    os << "logits relative error " << std::scientific << std::setprecision(3)
       << r.logits_relative_error << " over " << r.utterances << " utterances\n";
  if (r.wer_before >= 0)
    os << "WER " << std::fixed << std::setprecision(2) << 100 * r.wer_before << "% before, "
       << 100 * r.wer_after << "% after\n";
  os << std::fixed << "KV cache floats per frame (all layers) " << r.cache_floats_per_frame_before
     << " -> " << r.cache_floats_per_frame_after << " (" << std::setprecision(1)
     << 100.0 * static_cast<double>(r.cache_floats_per_frame_after) /
            static_cast<double>(r.cache_floats_per_frame_before)
     << "%), bytes " << bytes(r.cache_floats_per_frame_before) << " -> "
     << bytes(r.cache_floats_per_frame_after) << "\n";
  if (r.cache_budget_floats > 0)
    os << "cache budget " << bytes(r.cache_budget_floats) << " bytes per frame ("
       << r.cache_budget_floats << " floats), ranks chosen per layer by discarded energy\n";
  return os.str();
}

}  // namespace asr
