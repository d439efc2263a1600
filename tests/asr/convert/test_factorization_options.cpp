// The conversion's factorization options (docs/conversion.md, "Factorization options"): the
// cached input (exact), row weightings (values through the output projection, keys and values
// balanced) minimizing their weighted error, sequential calibration and calibration under a
// streaming chunk mask.
#include <boost/test/unit_test.hpp>

#include <cmath>
#include <sstream>

#include "asr/convert/conversion_quality.h"
#include "asr/convert/convert.h"
#include "convert_testing.h"
#include "nn/branchformer_block.h"
#include "nn/conformer_block.h"
#include "nn/mha.h"
#include "nn/mla.h"

using asr::Matrix;
using testing::kDim;
using testing::latent;
using testing::quality;
using testing::random_batches;
using testing::tiny_config;
using testing::tiny_model;

namespace {

template <class A>
std::vector<std::shared_ptr<A>> attention_layers(asr::AsrModel& m) {
  std::vector<std::shared_ptr<A>> r;
  for (const auto& block : *m.encoder->layers) {
    std::shared_ptr<nn::Attention> a;
    if (auto* c = dynamic_cast<nn::ConformerBlock*>(block.get())) a = c->self_attn;
    if (auto* b = dynamic_cast<nn::BranchformerBlock*>(block.get())) a = b->attn;
    r.push_back(std::dynamic_pointer_cast<A>(a));
  }
  return r;
}

// ||m (w - w_r) l||_F
double weighted_error(const Matrix& w, const Matrix& w_r, const Matrix& m, const Matrix& l) {
  return asr::frobenius_norm(asr::matmul(asr::matmul(m, asr::subtract(w, w_r)), l));
}

Matrix scaled(Matrix m, double s) {
  for (double& v : m.data) v *= s;
  return m;
}

// Layer i's [W_k; W_v] of the MHA model and [W_uk; W_uv] W_dkv of the converted one.
Matrix mha_weight(asr::AsrModel& mha, size_t i) {
  auto a = attention_layers<nn::MultiHeadAttention>(mha)[i];
  return asr::stack_rows(asr::to_matrix(a->linear_k->weight), asr::to_matrix(a->linear_v->weight));
}
Matrix converted_weight(asr::AsrModel& mla, size_t i) {
  auto a = attention_layers<nn::MultiHeadLatentAttention>(mla)[i];
  return asr::matmul(asr::stack_rows(asr::to_matrix(a->linear_uk->weight),
                                     asr::to_matrix(a->linear_uv->weight)),
                     asr::to_matrix(a->linear_dkv->weight));
}

// ||X D^T||_F from the inputs' Gram matrix G = X^T X: sqrt(tr(D G D^T)).
double data_error(const Matrix& d, const Matrix& gram) {
  const Matrix dg = asr::matmul(d, gram);
  double sum = 0;
  for (int64_t i = 0; i < d.rows; ++i)
    for (int64_t j = 0; j < d.cols; ++j) sum += dg(i, j) * d(i, j);
  return std::sqrt(sum);
}

// What output weighting minimizes, computed from its definition, not from the code's weighting:
// the keys' error on the inputs and the values' error on the inputs as the output projection
// maps it, ||X E_k^T||^2 + ||X E_v^T W_o^T||^2 (Linear: y = x W^T + b).
double output_side_error(asr::AsrModel& mha, asr::AsrModel& converted, size_t i,
                         const Matrix& gram) {
  auto a = attention_layers<nn::MultiHeadAttention>(mha)[i];
  const Matrix e = asr::subtract(mha_weight(mha, i), converted_weight(converted, i));
  const Matrix w_o = asr::to_matrix(a->linear_out->weight);
  const double k = data_error(asr::row_block(e, 0, kDim), gram);
  const double v = data_error(asr::matmul(w_o, asr::row_block(e, kDim, 2 * kDim)), gram);
  return std::sqrt(k * k + v * v);
}

}  // namespace

BOOST_AUTO_TEST_CASE(row_weighted_factorization_minimizes_the_weighted_error) {
  ag::manual_seed(9);
  const Matrix w = asr::to_matrix(ag::normal({12, 6}));
  const Matrix x = asr::to_matrix(ag::normal({30, 6}));
  const Matrix l = asr::gram_factor(asr::matmul(asr::transpose(x), x));
  // An upper-triangular row weighting, far from a multiple of the identity, and its inverse.
  Matrix g = asr::to_matrix(ag::normal({12, 12}));
  g = asr::matmul(g, asr::transpose(g));
  const Matrix chol = asr::gram_factor(g);
  const asr::RowWeighting rows{asr::transpose(chol), asr::transpose(asr::lower_inverse(chol))};
  for (int64_t r : {1, 3, 5}) {
    const asr::LowRank plain = asr::factorize(w, l, r);
    const asr::LowRank weighted = asr::factorize(w, l, r, rows);
    const double e_plain = weighted_error(w, asr::matmul(plain.up, plain.down), rows.m, l);
    const double e_weighted = weighted_error(w, asr::matmul(weighted.up, weighted.down), rows.m, l);
    BOOST_TEST_CONTEXT("rank " << r) {
      BOOST_CHECK_LT(e_weighted, e_plain);
      // The error left is the discarded part of m w l's spectrum.
      double discarded = 0;
      for (size_t j = static_cast<size_t>(r); j < weighted.s.size(); ++j)
        discarded += weighted.s[j] * weighted.s[j];
      BOOST_CHECK_CLOSE(e_weighted, std::sqrt(discarded), 1e-6);
    }
  }
  const asr::LowRank full = asr::factorize(w, l, 6, rows);
  BOOST_CHECK_SMALL(asr::frobenius_norm(asr::subtract(asr::matmul(full.up, full.down), w)), 1e-8);
}

BOOST_AUTO_TEST_CASE(cached_input_is_exact_and_is_the_input) {
  auto batches = random_batches();
  for (std::string encoder : {"conformer", "branchformer"})
    for (std::string positions : {"relative", "absolute"})
      BOOST_TEST_CONTEXT(encoder << " " << positions) {
        asr::Config cfg = tiny_config(encoder, positions);
        auto mha = tiny_model(cfg);
        asr::ConvertOptions o;
        o.to = "mla";
        o.cache_input = true;
        asr::Conversion c = asr::convert_model(cfg, *mha, o);
        BOOST_CHECK_EQUAL(c.config.model.attention.latent_dim, kDim);
        BOOST_CHECK_EQUAL(c.model->encoder->cache_floats_per_frame(), 2 * kDim);  // 2 layers
        for (const auto& a : attention_layers<nn::MultiHeadLatentAttention>(*c.model)) {
          const Matrix dkv = asr::to_matrix(a->linear_dkv->weight);
          BOOST_CHECK_EQUAL(asr::frobenius_norm(asr::subtract(dkv, asr::identity(kDim))), 0.0);
        }
        BOOST_CHECK_LT(quality(*mha, c, batches).logits_relative_error, 1e-5);
      }
}

BOOST_AUTO_TEST_CASE(output_weighting_and_balancing_minimize_their_weighted_errors) {
  asr::Config cfg = tiny_config();
  auto mha = tiny_model(cfg);
  // Keys three times the values' scale, so that balancing has something to balance.
  for (const auto& a : attention_layers<nn::MultiHeadAttention>(*mha)) {
    float* k = a->linear_k->weight.data();
    for (int64_t j = 0; j < a->linear_k->weight.numel(); ++j) k[j] *= 3;
  }
  auto batches = random_batches();
  const std::vector<Matrix> grams =
      asr::input_grams(asr::capture_attention_inputs(*mha, batches));
  for (int64_t r : {kDim / 4, kDim / 2}) {
    asr::ConvertOptions plain = latent("mla_simple", r), by_output = plain, balanced = plain;
    by_output.output_weighted = true;
    balanced.balance_kv = true;
    asr::Conversion p = asr::convert_model(cfg, *mha, plain, grams);
    asr::Conversion o = asr::convert_model(cfg, *mha, by_output, grams);
    asr::Conversion b = asr::convert_model(cfg, *mha, balanced, grams);
    for (size_t i = 0; i < grams.size(); ++i)
      BOOST_TEST_CONTEXT("rank " << r << " layer " << i) {
        const Matrix w = mha_weight(*mha, i), l = asr::gram_factor(grams[i]);
        // Values through the output projection: its own error is the smaller one.
        BOOST_CHECK_LT(output_side_error(*mha, *o.model, i, grams[i]),
                       output_side_error(*mha, *p.model, i, grams[i]));
        // Balanced: keys scaled by a = ||W_v L|| / ||W_k L||, which the test recomputes.
        const double k = asr::frobenius_norm(asr::matmul(asr::row_block(w, 0, kDim), l));
        const double v = asr::frobenius_norm(asr::matmul(asr::row_block(w, kDim, 2 * kDim), l));
        BOOST_REQUIRE_LT(v / k, 0.5);  // as scaled above
        const Matrix m_b = asr::block_diagonal(scaled(asr::identity(kDim), v / k), asr::identity(kDim));
        BOOST_CHECK_LT(weighted_error(w, converted_weight(*b.model, i), m_b, l),
                       weighted_error(w, converted_weight(*p.model, i), m_b, l));
      }
  }
  // At full rank every weighting is exact.
  asr::ConvertOptions both = latent("mla", kDim);
  both.output_weighted = both.balance_kv = true;
  BOOST_CHECK_LT(quality(*mha, asr::convert_model(cfg, *mha, both, grams), batches)
                     .logits_relative_error,
                 1e-4);
}

BOOST_AUTO_TEST_CASE(sequential_calibration_follows_the_converted_layers_below) {
  asr::Config cfg = tiny_config();
  cfg.model.num_layers = 3;
  auto mha = tiny_model(cfg);
  auto batches = random_batches();
  const std::vector<Matrix> one_shot =
      asr::input_grams(asr::capture_attention_inputs(*mha, batches));
  auto gram_change = [&](const std::vector<Matrix>& g, size_t i) {
    return asr::frobenius_norm(asr::subtract(g[i], one_shot[i])) /
           asr::frobenius_norm(one_shot[i]);
  };
  std::ostringstream log;
  // Exact conversions change no layer's inputs.
  const auto exact =
      asr::sequential_grams(cfg, *mha, latent("mla_simple", kDim), one_shot, batches, 0, log);
  for (size_t i = 0; i < 3; ++i) BOOST_CHECK_LT(gram_change(exact, i), 1e-5);
  // Truncated ones change the inputs of every layer above the first, and only those.
  const auto seq =
      asr::sequential_grams(cfg, *mha, latent("mla_simple", kDim / 8), one_shot, batches, 0, log);
  BOOST_CHECK_EQUAL(gram_change(seq, 0), 0.0);
  BOOST_CHECK_GT(gram_change(seq, 1), 1e-4);
  BOOST_CHECK_GT(gram_change(seq, 2), 1e-4);
  // Layer 2's statistics are those of the model whose layers 0 and 1 use the sequential ones.
  asr::Conversion below = asr::convert_model(cfg, *mha, latent("mla_simple", kDim / 8), seq);
  const auto direct =
      asr::input_grams(asr::capture_attention_inputs(*below.model, batches))[2];
  BOOST_CHECK_LT(asr::frobenius_norm(asr::subtract(direct, seq[2])) /
                     asr::frobenius_norm(direct),
                 1e-6);
  BOOST_CHECK(log.str().find("layer 2 recalibrated") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(calibration_under_a_chunk_mask_sees_chunked_inputs) {
  asr::Config cfg = tiny_config();
  auto mha = tiny_model(cfg);
  auto batches = random_batches();
  const auto full = asr::input_grams(asr::capture_attention_inputs(*mha, batches));
  const auto chunked = asr::input_grams(asr::capture_attention_inputs(*mha, batches, 2));
  const auto whole = asr::input_grams(asr::capture_attention_inputs(*mha, batches, 1000));
  auto change = [&](const std::vector<Matrix>& g, size_t i) {
    return asr::frobenius_norm(asr::subtract(g[i], full[i])) / asr::frobenius_norm(full[i]);
  };
  BOOST_CHECK_LT(change(chunked, 0), 1e-6);  // the first layer's input precedes any attention
  BOOST_CHECK_GT(change(chunked, 1), 1e-3);  // the second's follows a chunk-masked layer
  BOOST_CHECK_LT(change(whole, 1), 1e-6);    // a chunk longer than every utterance: no mask
}
