// The calibrated conversion's error is what its spectrum says, and the quality report's
// numbers are what an independent recomputation from the converted weights gives:
// - ||(W - W_r) L||_F = sqrt(sum of the discarded s_i^2) of the whitened W L, and on the
//   calibration data ||X (W - W_r)^T||_F^2 = that sum - ridge ||W - W_r||_F^2 (L L^T = X^T X +
//   ridge I), W_r read back from the converted model's linear_dkv, linear_uk, linear_uv;
// - the report's energy kept, weight error, cache floats and logits error ("after").
#include <boost/test/unit_test.hpp>

#include <cmath>
#include <map>

#include "autograd/autograd.h"
#include "convert_testing.h"

using asr::Matrix;
using testing::kDim;

namespace {

// The model's tensors by name.
std::map<std::string, ag::Tensor> tensors(const asr::AsrModel& m) {
  const nn::NamedTensors all = m.state_dict();
  return {all.begin(), all.end()};
}

std::string attention(int64_t layer) {
  return "encoder.layers." + std::to_string(layer) + ".self_attn.";
}

// [W_k; W_v] [2d, d] of an MHA model's layer.
Matrix key_value(const asr::AsrModel& mha, int64_t layer) {
  auto t = tensors(mha);
  const std::string p = attention(layer);
  return asr::stack_rows(asr::to_matrix(t.at(p + "linear_k.weight")),
                         asr::to_matrix(t.at(p + "linear_v.weight")));
}

// W_r = [W_uk; W_uv] W_dkv [2d, d] of a converted model's layer.
Matrix key_value_low_rank(const asr::AsrModel& mla, int64_t layer) {
  auto t = tensors(mla);
  const std::string p = attention(layer);
  return asr::matmul(asr::stack_rows(asr::to_matrix(t.at(p + "linear_uk.weight")),
                                     asr::to_matrix(t.at(p + "linear_uv.weight"))),
                     asr::to_matrix(t.at(p + "linear_dkv.weight")));
}

double discarded(const std::vector<double>& s, int64_t r) {
  double sum = 0;
  for (size_t i = static_cast<size_t>(r); i < s.size(); ++i) sum += s[i] * s[i];
  return sum;
}

double ridge_of(const Matrix& gram) {  // as asr::gram_factor adds it
  double trace = 0;
  for (int64_t i = 0; i < gram.rows; ++i) trace += gram(i, i);
  return 1e-6 * trace / static_cast<double>(gram.rows);
}

// ||X (W - W_r)^T||_F^2 over the real frames of the captured inputs of one layer.
double data_error_squared(const std::vector<asr::LayerInput>& inputs, const Matrix& diff) {
  double sum = 0;
  for (const asr::LayerInput& in : inputs) {
    const int64_t T = in.x.size(1), d = in.x.size(2);
    const float* p = in.x.data();
    for (size_t n = 0; n < in.lengths.size(); ++n)
      for (int64_t t = 0; t < in.lengths[n]; ++t) {
        const float* x = p + (static_cast<int64_t>(n) * T + t) * d;
        for (int64_t o = 0; o < diff.rows; ++o) {
          double y = 0;
          for (int64_t i = 0; i < d; ++i) y += diff(o, i) * x[i];
          sum += y * y;
        }
      }
  }
  return sum;
}

}  // namespace

BOOST_AUTO_TEST_CASE(calibrated_error_is_the_discarded_spectrum) {
  const asr::Config cfg = testing::tiny_config();
  auto mha = testing::tiny_model(cfg);
  const asr::Captured captured =
      asr::capture_attention_inputs(*mha, testing::random_batches());
  const std::vector<Matrix> grams = asr::input_grams(captured);
  for (int64_t r : {1, 4, 12, 31}) {
    asr::Conversion c = asr::convert_model(cfg, *mha, testing::latent("mla_simple", r), grams);
    for (int64_t layer = 0; layer < 2; ++layer) {
      BOOST_TEST_CONTEXT("R " << r << " layer " << layer) {
        const std::vector<double>& s = c.layers[static_cast<size_t>(layer)].singular_values;
        const Matrix w = key_value(*mha, layer);
        const Matrix diff = asr::subtract(w, key_value_low_rank(*c.model, layer));
        const Matrix l = asr::gram_factor(grams[static_cast<size_t>(layer)]);
        // The whitened spectrum is W L's, computed here again.
        const std::vector<double> again = asr::svd(asr::matmul(w, l)).s;
        BOOST_REQUIRE_EQUAL(again.size(), s.size());
        for (size_t i = 0; i < s.size(); ++i) BOOST_CHECK_CLOSE(again[i], s[i], 1e-8);
        const double expected = std::sqrt(discarded(s, r));
        BOOST_CHECK_GT(expected, 0);
        BOOST_CHECK_CLOSE(asr::frobenius_norm(asr::matmul(diff, l)), expected, 1e-2);
        if (r == 31) continue;  // below: a difference of two nearly equal terms
        const double ridge = ridge_of(grams[static_cast<size_t>(layer)]);
        const double weight = asr::frobenius_norm(diff);
        BOOST_CHECK_CLOSE(
            std::sqrt(data_error_squared(captured.layers[static_cast<size_t>(layer)], diff)),
            std::sqrt(discarded(s, r) - ridge * weight * weight), 1e-2);
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(report_numbers_are_recomputed) {
  const asr::Config cfg = testing::tiny_config();
  auto mha = testing::tiny_model(cfg);
  const auto batches = testing::random_batches();
  const std::vector<Matrix> grams =
      asr::input_grams(asr::capture_attention_inputs(*mha, batches));
  asr::ConvertOptions o;
  o.to = "mla";
  o.cache_budget = 96;  // 24 floats over 2 layers, ranks per layer
  asr::Conversion c = asr::convert_model(cfg, *mha, o, grams);
  const asr::QualityReport q = testing::quality(*mha, c, batches);

  // The written config rebuilds the model; the converted weights load into it.
  const asr::Config back = asr::parse_config(asr::to_yaml(c.config), "converted config");
  asr::AsrModel after(back.model, testing::kVocab);
  after.load_state_dict(c.model->state_dict());
  after.eval();
  BOOST_CHECK_EQUAL(q.cache_floats_per_frame_before, 2 * 2 * kDim);
  BOOST_CHECK_EQUAL(q.cache_floats_per_frame_after, after.encoder->cache_floats_per_frame());
  BOOST_CHECK_EQUAL(q.cache_floats_per_frame_after, 24);
  for (int64_t layer = 0; layer < 2; ++layer) {
    const auto& l = q.layers[static_cast<size_t>(layer)].conversion;
    const Matrix w = key_value(*mha, layer);
    const Matrix diff = asr::subtract(w, key_value_low_rank(after, layer));
    BOOST_CHECK_CLOSE(l.weight_relative_error,
                      asr::frobenius_norm(diff) / asr::frobenius_norm(w), 1e-3);
    double kept = 0, total = 0;
    for (size_t i = 0; i < l.singular_values.size(); ++i) {
      total += l.singular_values[i] * l.singular_values[i];
      if (static_cast<int64_t>(i) < l.latent_dim) kept += l.singular_values[i] * l.singular_values[i];
    }
    BOOST_CHECK_CLOSE(l.energy_kept, kept / total, 1e-10);
  }
  // Logits error over the real frames, from both models run here.
  ag::NoGradGuard no_grad;
  double diff = 0, ref = 0;
  int64_t utterances = 0;
  for (const asr::Batch& b : batches) {
    const nn::EncoderOutput x = mha->logits(b.feats, b.lengths);
    const nn::EncoderOutput y = after.logits(b.feats, b.lengths);
    const std::vector<float> vx = x.out.to_vector(), vy = y.out.to_vector();
    const int64_t T = x.out.size(1), V = x.out.size(2);
    for (size_t n = 0; n < x.lengths.size(); ++n)
      for (int64_t t = 0; t < x.lengths[n]; ++t)
        for (int64_t v = 0; v < V; ++v) {
          const size_t i = static_cast<size_t>((static_cast<int64_t>(n) * T + t) * V + v);
          diff += (static_cast<double>(vy[i]) - vx[i]) * (static_cast<double>(vy[i]) - vx[i]);
          ref += static_cast<double>(vx[i]) * vx[i];
        }
    utterances += b.size();
  }
  BOOST_CHECK_GT(q.logits_relative_error, 1e-4);  // a real loss, not an exact conversion
  BOOST_CHECK_CLOSE(q.logits_relative_error, std::sqrt(diff / ref), 1e-6);
  BOOST_CHECK_EQUAL(q.utterances, utterances);
}
