// Shared by the conversion tests: a tiny MHA CTC model, random features far from isotropic,
// and the conversion's quality measured on them.
#pragma once
#include <boost/test/unit_test.hpp>

#include <memory>
#include <string>
#include <vector>

#include "asr/config/config_schema.h"
#include "asr/convert/conversion_quality.h"
#include "asr/convert/convert.h"
#include "autograd/ops.h"
#include "autograd/random.h"

namespace testing {

constexpr int64_t kDim = 32, kHeads = 4, kVocab = 12, kInput = 20;

inline asr::Config tiny_config(const std::string& encoder = "conformer",
                               const std::string& positions = "relative") {
  asr::Config c;
  c.model.type = encoder;
  c.model.input_dim = kInput;
  c.model.d_model = kDim;
  c.model.num_layers = 2;
  c.model.attention.num_heads = kHeads;
  c.model.ffn_dim = 64;
  c.model.conv_kernel = 5;
  c.model.cgmlp_dim = 64;
  c.model.positional_encoding = positions;
  c.data.specaugment.freq_mask_width = 10;
  c.model.dropout = c.model.positional_dropout = c.model.attention.dropout = 0;
  asr::sync_attention(c.model);
  return c;
}

inline std::shared_ptr<asr::AsrModel> tiny_model(const asr::Config& c, uint64_t seed = 3) {
  ag::manual_seed(seed);
  auto m = std::make_shared<asr::AsrModel>(c.model, kVocab);
  m->eval();
  return m;
}

// Random features, two batches of unequal lengths (so padding is exercised), with a few
// dominant feature directions so that inputs are far from isotropic.
inline std::vector<asr::Batch> random_batches(uint64_t seed = 11) {
  ag::manual_seed(seed);
  std::vector<asr::Batch> batches;
  for (std::vector<int64_t> lengths : {std::vector<int64_t>{80, 61, 47}, {72, 72}}) {
    asr::Batch b;
    const int64_t B = static_cast<int64_t>(lengths.size());
    ag::Tensor low = ag::matmul(ag::normal({B, 80, 3}), ag::normal({B, 3, kInput}));
    b.feats = ag::add(ag::mul(low, 2.0f), ag::mul(ag::normal({B, 80, kInput}), 0.3f));
    b.lengths = lengths;
    for (int64_t i = 0; i < B; ++i) b.keys.push_back("utt" + std::to_string(i));
    b.texts.assign(lengths.size(), "");
    b.targets.assign(lengths.size(), {1});
    batches.push_back(b);
  }
  return batches;
}

inline asr::ConvertOptions latent(const std::string& to, int64_t r) {
  asr::ConvertOptions o;
  o.to = to;
  o.latent_dim = r;
  return o;
}

inline asr::QualityReport quality(asr::AsrModel& mha, const asr::Conversion& c,
                                  const std::vector<asr::Batch>& batches) {
  return asr::measure_quality(mha, c, asr::capture_attention_inputs(mha, batches), batches);
}

inline bool has(const std::string& text, const std::string& part) {
  bool found = text.find(part) != std::string::npos;
  if (!found) BOOST_TEST_MESSAGE("'" << part << "' not in: " << text);
  return found;
}

}  // namespace testing
