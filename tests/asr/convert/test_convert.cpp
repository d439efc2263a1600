// asr-convert: the SVD wrapper, exact conversions at full rank (mla_simple, mla plain and
// absorbed, low-rank queries, gqa), error against rank, calibration, --energy, the written
// checkpoint's config and embedded tokenizer and CMVN statistics, and every refusal (through
// the library and the binary).
#include <unistd.h>
#include <boost/test/unit_test.hpp>

#include <sys/wait.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>

#include "asr/model/checkpoint.h"
#include "asr/config/config_schema.h"
#include "asr/convert/conversion_quality.h"
#include "asr/convert/convert.h"
#include "asr/convert/convert_tool.h"
#include "asr/data/model_assets.h"
#include "autograd/ops.h"
#include "autograd/random.h"
#include "common/error_of.h"
#include "convert_testing.h"
#include "nn/conformer_block.h"
#include "nn/branchformer_block.h"
#include "nn/mla.h"

namespace fs = std::filesystem;
using ag::Tensor;
using asr::Matrix;

namespace {

using testing::has;
using testing::kDim;
using testing::kHeads;
using testing::kInput;
using testing::kVocab;
using testing::latent;
using testing::quality;
using testing::random_batches;
using testing::tiny_config;
using testing::tiny_model;

std::vector<std::shared_ptr<nn::MultiHeadLatentAttention>> mla_layers(asr::AsrModel& m) {
  std::vector<std::shared_ptr<nn::MultiHeadLatentAttention>> r;
  for (const auto& block : *m.encoder->layers) {
    std::shared_ptr<nn::Attention> a;
    if (auto* c = dynamic_cast<nn::ConformerBlock*>(block.get())) a = c->self_attn;
    if (auto* b = dynamic_cast<nn::BranchformerBlock*>(block.get())) a = b->attn;
    r.push_back(std::dynamic_pointer_cast<nn::MultiHeadLatentAttention>(a));
  }
  return r;
}

Matrix random_matrix(int64_t rows, int64_t cols) {
  return asr::to_matrix(ag::normal({rows, cols}));
}

fs::path temp_dir() {
  fs::path dir = fs::temp_directory_path() / ("latentasr_test_convert_" + std::to_string(getpid()));
  fs::create_directories(dir);
  return dir;
}

// Writes a tiny MHA checkpoint as asr-train would (config in __metadata__).
std::string write_checkpoint(const std::string& name, const asr::Config& c) {
  std::string path = (temp_dir() / name).string();
  tiny_model(c)->save(path, {{"config", asr::to_yaml(c)}, {"step", "1"}});
  return path;
}

}  // namespace

BOOST_AUTO_TEST_CASE(svd_of_a_known_matrix) {
  Matrix a(3, 2);  // singular values 3 and 2, in that order whatever the input order
  a(0, 1) = -2;
  a(1, 0) = 3;
  asr::Svd f = asr::svd(a);
  BOOST_REQUIRE_EQUAL(f.s.size(), 2u);
  BOOST_CHECK_CLOSE(f.s[0], 3.0, 1e-10);
  BOOST_CHECK_CLOSE(f.s[1], 2.0, 1e-10);
  ag::manual_seed(1);
  for (auto [m, n] : {std::pair<int64_t, int64_t>{7, 4}, {4, 7}, {5, 5}}) {
    Matrix w = random_matrix(m, n);
    asr::Svd g = asr::svd(w);
    Matrix us = g.u;
    for (int64_t i = 0; i < us.rows; ++i)
      for (int64_t j = 0; j < us.cols; ++j) us(i, j) *= g.s[static_cast<size_t>(j)];
    BOOST_CHECK_SMALL(asr::frobenius_norm(asr::subtract(asr::matmul(us, g.vt), w)), 1e-10);
    for (size_t j = 1; j < g.s.size(); ++j) BOOST_CHECK_GE(g.s[j - 1], g.s[j]);
  }
}

BOOST_AUTO_TEST_CASE(cholesky_and_its_inverse) {
  ag::manual_seed(2);
  Matrix x = random_matrix(20, 6);
  Matrix g = asr::matmul(asr::transpose(x), x);
  Matrix l = asr::cholesky(g);
  BOOST_CHECK_SMALL(asr::frobenius_norm(asr::subtract(asr::matmul(l, asr::transpose(l)), g)), 1e-9);
  BOOST_CHECK_EQUAL(l(0, 5), 0.0);
  BOOST_CHECK_SMALL(
      asr::frobenius_norm(asr::subtract(asr::matmul(asr::lower_inverse(l), l), asr::identity(6))),
      1e-9);
  Matrix singular(2, 2);
  BOOST_CHECK(has(testing::error_of([&] { asr::cholesky(singular); }), "not positive definite"));
}

BOOST_AUTO_TEST_CASE(full_rank_reproduces_mha) {
  auto batches = random_batches();
  for (std::string encoder : {"conformer", "branchformer"})
    for (std::string positions : {"relative", "absolute"})
      BOOST_TEST_CONTEXT(encoder << " " << positions) {
        asr::Config cfg = tiny_config(encoder, positions);
        auto mha = tiny_model(cfg);
        for (int64_t r : {kDim, 2 * kDim}) {
          for (std::string to : {"mla_simple", "mla"}) {
            asr::Conversion c = asr::convert_model(cfg, *mha, latent(to, r));
            BOOST_CHECK_EQUAL(c.model->encoder->cache_floats_per_frame(), 2 * r);
            asr::QualityReport q = quality(*mha, c, batches);
            BOOST_TEST_INFO(to << " R " << r);
            BOOST_CHECK_LT(q.logits_relative_error, 1e-4);
            for (const auto& l : q.layers) BOOST_CHECK_LT(l.relative_error, 1e-4);
          }
          asr::Conversion absorbed = asr::convert_model(cfg, *mha, latent("mla", r));
          for (auto& a : mla_layers(*absorbed.model)) a->set_absorb(true);
          BOOST_TEST_INFO("mla absorbed R " << r);
          BOOST_CHECK_LT(quality(*mha, absorbed, batches).logits_relative_error, 1e-4);
        }
        asr::ConvertOptions o = latent("mla", kDim);
        o.q_latent_dim = kDim;
        asr::Conversion low_q = asr::convert_model(cfg, *mha, o);
        BOOST_CHECK(mla_layers(*low_q.model)[0]->linear_dq);
        BOOST_TEST_INFO("mla with q_latent_dim = d");
        BOOST_CHECK_LT(quality(*mha, low_q, batches).logits_relative_error, 1e-4);
      }
}

BOOST_AUTO_TEST_CASE(error_shrinks_as_the_rank_grows) {
  asr::Config cfg = tiny_config();
  auto mha = tiny_model(cfg);
  auto batches = random_batches();
  double last_weight = 2, last_logits = 2;
  for (int64_t r : {kDim / 8, kDim / 4, kDim / 2, 3 * kDim / 4, kDim}) {
    asr::QualityReport q =
        quality(*mha, asr::convert_model(cfg, *mha, latent("mla_simple", r)), batches);
    BOOST_TEST_MESSAGE("R " << r << ": weight error "
                            << q.layers[0].conversion.weight_relative_error << ", logits error "
                            << q.logits_relative_error);
    BOOST_CHECK_LE(q.layers[0].conversion.weight_relative_error, last_weight + 1e-12);
    BOOST_CHECK_LE(q.logits_relative_error, last_logits + 1e-6);
    BOOST_CHECK_EQUAL(q.layers[0].conversion.latent_dim, r);
    last_weight = q.layers[0].conversion.weight_relative_error;
    last_logits = q.logits_relative_error;
  }
  BOOST_CHECK_LT(last_logits, 1e-4);
}

BOOST_AUTO_TEST_CASE(gqa_with_every_head_is_exact_and_one_group_runs) {
  auto batches = random_batches();
  for (std::string positions : {"relative", "absolute"}) {
    asr::Config cfg = tiny_config("conformer", positions);
    auto mha = tiny_model(cfg);
    asr::ConvertOptions o;
    o.to = "gqa";
    o.kv_heads = kHeads;
    asr::QualityReport exact = quality(*mha, asr::convert_model(cfg, *mha, o), batches);
    BOOST_CHECK_LT(exact.logits_relative_error, 1e-5);
    BOOST_CHECK_SMALL(exact.layers[0].conversion.weight_relative_error, 1e-12);
    BOOST_CHECK_EQUAL(exact.layers[0].conversion.energy_kept, -1);
    o.kv_heads = 1;
    asr::Conversion one = asr::convert_model(cfg, *mha, o);
    BOOST_CHECK_EQUAL(one.config.model.attention.num_kv_heads, 1);
    asr::QualityReport q = quality(*mha, one, batches);
    BOOST_CHECK(std::isfinite(q.logits_relative_error));
    BOOST_CHECK_GT(q.logits_relative_error, 0);
    BOOST_CHECK_EQUAL(q.cache_floats_per_frame_after, 2 * (2 * kDim / kHeads));
  }
}

BOOST_AUTO_TEST_CASE(calibration_beats_plain_svd_on_its_data) {
  asr::Config cfg = tiny_config();
  auto mha = tiny_model(cfg);
  auto batches = random_batches();
  std::vector<Matrix> grams = asr::input_grams(asr::capture_attention_inputs(*mha, batches));
  BOOST_REQUIRE_EQUAL(grams.size(), 2u);
  for (int64_t r : {kDim / 8, kDim / 4, kDim / 2}) {
    auto plain = quality(*mha, asr::convert_model(cfg, *mha, latent("mla_simple", r)), batches);
    auto calibrated =
        quality(*mha, asr::convert_model(cfg, *mha, latent("mla_simple", r), grams), batches);
    BOOST_TEST_MESSAGE("R " << r << ": logits error plain " << plain.logits_relative_error
                            << ", calibrated " << calibrated.logits_relative_error);
    BOOST_CHECK_LT(calibrated.logits_relative_error, plain.logits_relative_error);
    for (size_t i = 0; i < plain.layers.size(); ++i)
      BOOST_CHECK_LT(calibrated.layers[i].relative_error, plain.layers[i].relative_error);
  }
}

BOOST_AUTO_TEST_CASE(weighted_factorization_minimizes_the_data_error) {
  ag::manual_seed(5);
  Matrix w = random_matrix(16, 8);
  Matrix x = asr::matmul(random_matrix(50, 3), random_matrix(3, 8));  // low-rank inputs
  for (int64_t i = 0; i < x.rows; ++i)
    for (int64_t j = 0; j < x.cols; ++j) x(i, j) += 0.05 * static_cast<double>((i * 7 + j) % 5);
  Matrix l = asr::gram_factor(asr::matmul(asr::transpose(x), x));
  auto data_error = [&](const asr::LowRank& f) {  // ||X (W - W_r)^T||_F
    return asr::frobenius_norm(
        asr::matmul(x, asr::transpose(asr::subtract(w, asr::matmul(f.up, f.down)))));
  };
  for (int64_t r : {1, 2, 3, 5}) {
    asr::LowRank plain = asr::factorize(w, asr::identity(8), r);
    asr::LowRank weighted = asr::factorize(w, l, r);
    BOOST_CHECK_LT(data_error(weighted), data_error(plain));
    BOOST_CHECK_EQUAL(weighted.up.cols, r);
    BOOST_CHECK_EQUAL(weighted.down.rows, r);
  }
  // Full rank is exact; beyond it the extra directions are zero.
  asr::LowRank over = asr::factorize(w, l, 12);
  BOOST_CHECK_SMALL(asr::frobenius_norm(asr::subtract(asr::matmul(over.up, over.down), w)), 1e-8);
  for (int64_t i = 0; i < over.up.rows; ++i) BOOST_CHECK_EQUAL(over.up(i, 10), 0.0);
}

BOOST_AUTO_TEST_CASE(energy_picks_per_layer_ranks) {
  BOOST_CHECK_EQUAL(asr::rank_for_energy({3, 2, 1}, 9.0 / 14), 1);
  BOOST_CHECK_EQUAL(asr::rank_for_energy({3, 2, 1}, 0.7), 2);
  BOOST_CHECK_EQUAL(asr::rank_for_energy({3, 2, 1}, 1.0), 3);

  asr::Config cfg = tiny_config();
  auto mha = tiny_model(cfg);
  auto batches = random_batches();
  std::vector<Matrix> grams = asr::input_grams(asr::capture_attention_inputs(*mha, batches));
  for (double e : {0.5, 0.9, 0.99}) {
    asr::ConvertOptions o;
    o.to = "mla";
    o.energy = e;
    asr::Conversion c = asr::convert_model(cfg, *mha, o, grams);  // calibrated: ranks differ
    std::vector<int64_t> ranks;
    for (const auto& l : c.layers) {
      BOOST_CHECK_GE(l.energy_kept, e - 1e-12);
      double below = 0, total = 0;  // one rank less keeps less than e
      for (size_t i = 0; i < l.singular_values.size(); ++i) {
        total += l.singular_values[i] * l.singular_values[i];
        if (static_cast<int64_t>(i) < l.latent_dim - 1)
          below += l.singular_values[i] * l.singular_values[i];
      }
      BOOST_CHECK_LT(below / total, e);
      ranks.push_back(l.latent_dim);
    }
    BOOST_TEST_MESSAGE("energy " << e << ": ranks " << ranks[0] << ", " << ranks[1]);
    const auto& m = c.config.model;
    BOOST_CHECK_EQUAL(m.attention.latent_dim, std::max(ranks[0], ranks[1]));
    BOOST_CHECK(m.latent_dims == (ranks[0] == ranks[1] ? std::vector<int64_t>{} : ranks));
    BOOST_CHECK_EQUAL(c.model->encoder->cache_floats_per_frame(), ranks[0] + ranks[1]);
    BOOST_CHECK(std::isfinite(quality(*mha, c, batches).logits_relative_error));
  }
}

BOOST_AUTO_TEST_CASE(latent_dims_round_trip_through_the_config) {
  asr::Config c = tiny_config();
  c.model.attention.type = "mla_simple";
  c.model.attention.latent_dim = 9;
  c.model.latent_dims = {3, 9};
  asr::Config back = asr::parse_config(asr::to_yaml(c), "round trip");
  BOOST_CHECK(back == c);
  BOOST_CHECK(back.model.latent_dims == (std::vector<int64_t>{3, 9}));
  asr::AsrModel m(back.model, kVocab);
  BOOST_CHECK_EQUAL(m.encoder->cache_floats_per_frame(), 12);
  BOOST_CHECK(has(testing::error_of([&] {
                    asr::parse_config(asr::to_yaml(c), "x",
                                      {"model.attention_kwargs.latent_dims=[3]"});
                  }),
                  "'model.attention_kwargs.latent_dims' has 1 entries for 'model.num_layers' (2)"));
  BOOST_CHECK(has(testing::error_of([&] {
                    asr::parse_config(asr::to_yaml(c), "x",
                                      {"model.attention_kwargs.latent_dims=[3, 0]"});
                  }),
                  "entries must be at least 1, got 0"));
}

BOOST_AUTO_TEST_CASE(converted_checkpoint_carries_its_config) {
  asr::Config cfg = tiny_config("branchformer", "relative");
  std::string in = write_checkpoint("mha.safetensors", cfg);
  asr::ConvertToolOptions o;
  o.input = in;
  o.output = (temp_dir() / "out" / "mla.safetensors").string();
  o.convert.to = "mla";
  o.convert.energy = 0.8;
  o.convert.q_latent_dim = 16;
  o.report = (temp_dir() / "report.json").string();
  std::ostringstream table;
  nlohmann::json j = asr::run_convert(o, table);
  BOOST_CHECK(
      has(table.str(), "KV cache floats per frame (all layers) " + std::to_string(4 * kDim)));
  BOOST_CHECK_EQUAL(j["layers"].size(), 2u);
  BOOST_CHECK(j["layers"][0].contains("weight_relative_error"));
  BOOST_CHECK(fs::exists(o.report));

  asr::LoadedCheckpoint ckpt = asr::read_checkpoint(o.output);
  asr::Config back = asr::parse_config(ckpt.config_yaml, o.output);
  BOOST_CHECK_EQUAL(back.model.attention.type, "mla");
  BOOST_CHECK_EQUAL(back.model.attention.q_latent_dim, 16);
  BOOST_CHECK_EQUAL(back.model.type, "branchformer");
  asr::AsrModel model(back.model, kVocab);
  model.load_state_dict(ckpt.model.tensors);  // strict
  model.eval();
  asr::CtcOutput out = model.forward(random_batches()[0].feats, {80, 61, 47});
  for (float v : out.log_probs.to_vector()) BOOST_REQUIRE(std::isfinite(v));
}

BOOST_AUTO_TEST_CASE(refusals_name_the_flag) {
  asr::Config cfg = tiny_config();
  auto check = [&](const asr::Config& c, const asr::ConvertOptions& o, const std::string& part) {
    BOOST_CHECK(has(testing::error_of([&] { asr::check_convert_options(c, o); }), part));
  };
  asr::Config mla = cfg;
  mla.model.attention.type = "mla";
  mla.model.attention.latent_dim = 8;
  check(mla, latent("mla_simple", 8),
        "has attention_type mla; asr-convert converts mha models only");
  check(cfg, latent("linear", 8), "--to 'linear' is not one of mla_simple, mla, gqa");
  check(cfg, latent("mla_simple", 0), "--latent-dim 0 must lie in [1, 2 * d_model = 64]");
  check(cfg, latent("mla", 65), "--latent-dim 65 must lie in [1, 2 * d_model = 64]");
  asr::ConvertOptions both = latent("mla", 8);
  both.energy = 0.9;
  check(cfg, both, "exclude each other: give one (got --latent-dim 8, --energy 0.9)");
  asr::ConvertOptions none;
  none.to = "mla_simple";
  check(cfg, none,
        "--to mla_simple needs --latent-dim R, --latent-dims R0,R1,..., --energy E, "
        "--cache-budget BYTES or --cache-fraction F");
  for (double e : {0.0, -0.5, 1.5}) {
    asr::ConvertOptions o;
    o.to = "mla";
    o.energy = e;
    check(cfg, o, "must lie in (0, 1]");
  }
  asr::ConvertOptions q = latent("mla_simple", 8);
  q.q_latent_dim = 4;
  check(cfg, q, "--q-latent-dim is for --to mla, not mla_simple");
  q.to = "mla";
  q.q_latent_dim = 33;
  check(cfg, q, "--q-latent-dim 33 must lie in [1, d_model = 32]");
  for (int64_t g : {0, 3, -1}) {
    asr::ConvertOptions o;
    o.to = "gqa";
    o.kv_heads = g;
    check(cfg, o,
          "--kv-heads " + std::to_string(g) +
              " must be at least 1 and divide the model's num_heads (4)");
  }
  asr::ConvertOptions gqa_latent = latent("gqa", 8);
  gqa_latent.kv_heads = 2;
  check(cfg, gqa_latent, "are for --to mla_simple or mla, not gqa");

  asr::ConvertToolOptions t;
  t.output = (temp_dir() / "never.safetensors").string();
  t.convert = latent("mla", 8);
  t.input = (temp_dir() / "missing.safetensors").string();
  std::ostringstream out;
  BOOST_CHECK(
      has(testing::error_of([&] { asr::run_convert(t, out); }), "--input " + t.input + ": file not found"));
  t.input = (temp_dir() / "no_config.safetensors").string();
  tiny_model(cfg)->save(t.input);
  BOOST_CHECK(
      has(testing::error_of([&] { asr::run_convert(t, out); }), "carries no config in its metadata"));
  t.input = write_checkpoint("mha_for_data.safetensors", cfg);
  t.test_quality = (temp_dir() / "nowhere").string();
  BOOST_CHECK(has(testing::error_of([&] { asr::run_convert(t, out); }),
                  "--test-quality " + t.test_quality + ": no data there"));
}

namespace {

struct Run {
  int rc;
  std::string err;
};

Run convert_binary(const std::string& args) {
  fs::path err = temp_dir() / "stderr.txt";
  std::string cmd = std::string(LATENTASR_BINARY_DIR) + "/bin/asr-convert " + args +
                    " > /dev/null 2> " + err.string();
  int status = std::system(cmd.c_str());
  BOOST_REQUIRE_MESSAGE(WIFEXITED(status), "asr-convert did not exit: " + cmd);
  std::ifstream in(err);
  return {WEXITSTATUS(status),
          std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>())};
}

}  // namespace

BOOST_AUTO_TEST_CASE(binary_refuses_with_a_message) {
  std::string in = write_checkpoint("mha_cli.safetensors", tiny_config());
  std::string out = (temp_dir() / "cli_out.safetensors").string();
  fs::remove(out);
  Run r = convert_binary("--input " + in + " --output " + out + " --to gqa --kv-heads 3");
  BOOST_CHECK_NE(r.rc, 0);
  BOOST_CHECK(has(
      r.err, "asr-convert: --kv-heads 3 must be at least 1 and divide the model's num_heads (4)"));
  r = convert_binary("--input " + in + " --output " + out +
                     " --to mla --latent-dim 8 --energy 0.9");
  BOOST_CHECK_NE(r.rc, 0);
  BOOST_CHECK(has(r.err, "exclude each other"));
  BOOST_CHECK(!fs::exists(out));
  // Options that would be silently useless or inconsistent together.
  const std::string base = "--input " + in + " --output " + out + " --calibration /nonexistent ";
  for (const auto& [flags, message] : std::vector<std::pair<std::string, std::string>>{
           {"--to mla --cache-input", "--calibration has nothing to weigh"},
           {"--to mla --cache-fraction 0.25 --sequential", "not a cache budget"},
           {"--to mla --cache-input --latent-dim 8", "it takes no --latent-dim"}}) {
    r = convert_binary(base + flags);
    BOOST_CHECK_NE(r.rc, 0);
    BOOST_CHECK(has(r.err, message));
  }
  r = convert_binary("--input " + in + " --output " + out + " --to mla --latent-dim 8 --sequential");
  BOOST_CHECK(has(r.err, "--sequential and --calibration-chunk need --calibration DATA"));
  BOOST_CHECK(!fs::exists(out));
  r = convert_binary("--input " + in + " --output " + out + " --to mla_simple --latent-dim 8");
  BOOST_CHECK_EQUAL(r.rc, 0);
  BOOST_CHECK(fs::exists(out));
}

BOOST_AUTO_TEST_CASE(converted_model_keeps_its_tokenizer_and_cmvn) {
  asr::Config cfg = tiny_config();
  auto tok = asr::train_tokenizer("char", {}, 0, (temp_dir() / "assets_tok").string());
  asr::Cmvn cmvn;
  ag::manual_seed(4);
  cmvn.add(ag::add(ag::mul(ag::normal({30, kInput}), 2.0f), 5.0f));
  ag::manual_seed(3);
  asr::AsrModel mha(cfg.model, tok->vocab_size());
  std::string in = (temp_dir() / "mha_assets.safetensors").string();
  asr::save_model_file(in, mha, {{"config", asr::to_yaml(cfg)}}, asr::embed_assets(*tok, cmvn));
  asr::ConvertToolOptions o;
  o.input = in;
  o.output = (temp_dir() / "mla_assets.safetensors").string();
  o.convert = latent("mla_simple", 8);
  std::ostringstream table;
  asr::run_convert(o, table);

  nn::SafetensorsFile out = nn::load_safetensors(o.output);
  std::optional<asr::ModelAssets> a = asr::embedded_assets(out, o.output);
  BOOST_REQUIRE(a && a->cmvn);
  BOOST_CHECK(a->tokenizer->files() == tok->files());
  BOOST_TEST(a->cmvn->mean() == cmvn.mean());
  BOOST_TEST(a->cmvn->stddev() == cmvn.stddev());
  asr::Config back = asr::parse_config(out.metadata.at("config"), o.output);
  asr::AsrModel mla(back.model, tok->vocab_size());
  mla.load_state_dict(asr::model_weights(out.tensors));  // strict
  BOOST_CHECK_EQUAL(back.model.attention.type, "mla_simple");
}
