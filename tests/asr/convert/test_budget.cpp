// asr-convert --cache-budget / --cache-fraction: the greedy rank allocation on constructed
// spectra with a known answer and against every allocation, the budget kept exactly in the
// converted model's cache bytes (Encoder::cache_bytes_formula), the per-layer ranks in the
// config and the report, explicit per-layer ranks (--latent-dims), and the refusals.
#include <unistd.h>
#include <boost/test/unit_test.hpp>

#include <sys/wait.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "asr/convert/convert_tool.h"
#include "asr/convert/ranks.h"
#include "common/error_of.h"
#include "convert_testing.h"

namespace fs = std::filesystem;
using testing::has;
using testing::kDim;

namespace {

using Spectra = std::vector<std::vector<double>>;

asr::ConvertOptions budgeted(int64_t bytes) {
  asr::ConvertOptions o;
  o.to = "mla_simple";
  o.cache_budget = bytes;
  return o;
}

// Bytes per frame of the model's fp32 cache, by the encoder's formula.
int64_t bytes_per_frame(const asr::AsrModel& m) {
  return m.encoder->cache_bytes_formula(1) - m.encoder->cache_bytes_formula(0);
}

fs::path temp_dir() {
  fs::path dir = fs::temp_directory_path() / ("latentasr_test_budget_" + std::to_string(getpid()));
  fs::create_directories(dir);
  return dir;
}

}  // namespace

BOOST_AUTO_TEST_CASE(greedy_allocation_has_the_known_answer) {
  // Layer 0 holds nearly all its energy in one direction (103 = 100 + 1 + 1 + 1), layer 1
  // spreads it (54 = 25 + 16 + 9 + 4): the floats beyond rank 1 go to layer 1 first
  // (16/54, 9/54, 4/54 against 1/103), where uniform ranks would split them.
  const Spectra s = {{10, 1, 1, 1}, {5, 4, 3, 2}};
  BOOST_CHECK(asr::allocate_ranks(s, 2) == (std::vector<int64_t>{1, 1}));
  BOOST_CHECK(asr::allocate_ranks(s, 4) == (std::vector<int64_t>{1, 3}));
  BOOST_CHECK(asr::allocate_ranks(s, 5) == (std::vector<int64_t>{1, 4}));
  BOOST_CHECK(asr::allocate_ranks(s, 6) == (std::vector<int64_t>{2, 4}));
  BOOST_CHECK(asr::allocate_ranks(s, 8) == (std::vector<int64_t>{4, 4}));
  BOOST_CHECK(asr::allocate_ranks(s, 100) == (std::vector<int64_t>{4, 4}));  // capped: exact
  BOOST_CHECK_CLOSE(asr::discarded_energy(s, {1, 3}), 3.0 / 103 + 4.0 / 54, 1e-10);
  BOOST_CHECK_LT(asr::discarded_energy(s, {1, 3}), asr::discarded_energy(s, {2, 2}));
  BOOST_CHECK(asr::allocate_ranks({{1, 1}, {1, 1}}, 3) == (std::vector<int64_t>{2, 1}));  // tie
  BOOST_CHECK(asr::allocate_ranks({{0, 0}, {2, 1}}, 4) == (std::vector<int64_t>{2, 2}));  // zero
}

BOOST_AUTO_TEST_CASE(greedy_allocation_is_optimal_for_the_proxy) {
  ag::manual_seed(8);
  for (int trial = 0; trial < 5; ++trial) {
    Spectra s(3);
    for (auto& layer : s) {
      for (float v : ag::normal({5}).to_vector()) layer.push_back(std::abs(v) * (trial + 1));
      std::sort(layer.rbegin(), layer.rend());
    }
    for (int64_t budget = 3; budget <= 16; ++budget) {
      double best = 1e300;  // over every allocation with 1 <= R_l <= 5, sum R_l <= budget
      for (int64_t a = 1; a <= 5; ++a)
        for (int64_t b = 1; b <= 5; ++b)
          for (int64_t c = 1; c <= 5; ++c)
            if (a + b + c <= budget) best = std::min(best, asr::discarded_energy(s, {a, b, c}));
      const std::vector<int64_t> r = asr::allocate_ranks(s, budget);
      BOOST_TEST_CONTEXT("trial " << trial << " budget " << budget) {
        BOOST_CHECK_EQUAL(r[0] + r[1] + r[2], std::min<int64_t>(budget, 15));
        BOOST_CHECK_CLOSE(asr::discarded_energy(s, r) + 1, best + 1, 1e-10);
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(budget_is_kept_exactly) {
  const asr::Config cfg = testing::tiny_config();  // 2 layers, d 32: MHA 512 bytes per frame
  auto mha = testing::tiny_model(cfg);
  const auto batches = testing::random_batches();
  const std::vector<asr::Matrix> grams =
      asr::input_grams(asr::capture_attention_inputs(*mha, batches));
  BOOST_REQUIRE_EQUAL(bytes_per_frame(*mha), 2 * 2 * kDim * 4);
  for (int64_t budget : {8, 9, 100, 130, 255, 256, 1000}) {
    BOOST_TEST_CONTEXT("budget " << budget << " bytes") {
      asr::Conversion c = asr::convert_model(cfg, *mha, budgeted(budget), grams);
      const int64_t bytes = bytes_per_frame(*c.model);
      BOOST_CHECK_EQUAL(bytes, std::min<int64_t>(budget / 4 * 4, 2 * kDim * 4));
      BOOST_CHECK_EQUAL(c.budget_floats, budget / 4);
      Spectra s;
      std::vector<int64_t> ranks;
      for (const auto& l : c.layers) {
        s.push_back(l.singular_values);
        ranks.push_back(l.latent_dim);
      }
      BOOST_CHECK(ranks == asr::allocate_ranks(s, budget / 4));
      const auto& m = c.config.model;
      BOOST_CHECK(m.latent_dims == (ranks[0] == ranks[1] ? std::vector<int64_t>{} : ranks));
      BOOST_CHECK_EQUAL(m.attention.latent_dim, std::max(ranks[0], ranks[1]));
      if (budget >= 256) BOOST_CHECK_LT(testing::quality(*mha, c, batches).logits_relative_error, 1e-4);
    }
  }
  asr::ConvertOptions f;
  f.to = "mla";
  f.cache_fraction = 0.25;  // 128 of 512 bytes
  asr::Conversion c = asr::convert_model(cfg, *mha, f, grams);
  BOOST_CHECK_EQUAL(bytes_per_frame(*c.model), 128);
  BOOST_CHECK_EQUAL(c.budget_floats, 32);
  // The proxy's allocation beats uniform ranks (16 and 16) at the same bytes on the proxy.
  Spectra s;
  for (const auto& l : c.layers) s.push_back(l.singular_values);
  BOOST_CHECK_LE(asr::discarded_energy(s, {c.layers[0].latent_dim, c.layers[1].latent_dim}),
                 asr::discarded_energy(s, {16, 16}));
}

BOOST_AUTO_TEST_CASE(report_lists_the_budget_and_ranks) {
  const asr::Config cfg = testing::tiny_config();
  std::string in = (temp_dir() / "mha.safetensors").string();
  testing::tiny_model(cfg)->save(in, {{"config", asr::to_yaml(cfg)}});
  asr::ConvertToolOptions o;
  o.input = in;
  o.output = (temp_dir() / "budget.safetensors").string();
  o.convert = budgeted(100);
  std::ostringstream table;
  nlohmann::json j = asr::run_convert(o, table);
  BOOST_CHECK_EQUAL(j["cache_budget_bytes_per_frame"], 100);
  BOOST_CHECK_EQUAL(j["cache_bytes_per_frame_before"], 512);
  BOOST_CHECK_EQUAL(j["cache_bytes_per_frame_after"], 100);
  BOOST_CHECK_EQUAL(j["layers"][0]["latent_dim"].get<int64_t>() +
                        j["layers"][1]["latent_dim"].get<int64_t>(),
                    25);
  BOOST_CHECK(has(table.str(), "cache budget 100 bytes per frame (25 floats)"));
  BOOST_CHECK(has(table.str(), "bytes 512 -> 100"));
}

BOOST_AUTO_TEST_CASE(bad_budgets_are_refused) {
  const asr::Config cfg = testing::tiny_config();
  auto mha = testing::tiny_model(cfg);
  auto error = [&](const asr::ConvertOptions& o) {
    return testing::error_of([&] {
      asr::check_convert_options(cfg, o);
      asr::budget_floats(*mha, o);
    });
  };
  BOOST_CHECK(has(error(budgeted(-8)), "--cache-budget -8 (bytes per frame) must be positive"));
  BOOST_CHECK(has(error(budgeted(0)), "--cache-budget 0 (bytes per frame) must be positive"));
  BOOST_CHECK(has(error(budgeted(7)),
                  "--cache-budget 7 allows 7 bytes per frame (1 fp32 floats), below rank 1 in "
                  "each of the model's 2 layers (8 bytes; the MHA cache is 512 bytes per frame)"));
  BOOST_CHECK_EQUAL(error(budgeted(8)), "(no error)");
  for (double f : {0.0, -0.5, 1.5}) {
    asr::ConvertOptions o;
    o.to = "mla";
    o.cache_fraction = f;
    BOOST_CHECK(has(error(o), "must lie in (0, 1]"));
  }
  asr::ConvertOptions tiny;
  tiny.to = "mla";
  tiny.cache_fraction = 0.01;  // 5 bytes
  BOOST_CHECK(has(error(tiny), "--cache-fraction 0.01 allows 5 bytes per frame"));
  asr::ConvertOptions both = budgeted(64);
  both.latent_dim = 8;
  BOOST_CHECK(has(error(both), "exclude each other: give one (got --latent-dim 8, --cache-budget 64)"));
  asr::ConvertOptions gqa = budgeted(64);
  gqa.to = "gqa";
  gqa.kv_heads = 2;
  BOOST_CHECK(has(error(gqa), "are for --to mla_simple or mla, not gqa"));
}

BOOST_AUTO_TEST_CASE(binary_refuses_a_budget_below_rank_one) {
  const asr::Config cfg = testing::tiny_config();
  std::string in = (temp_dir() / "mha_cli.safetensors").string();
  testing::tiny_model(cfg)->save(in, {{"config", asr::to_yaml(cfg)}});
  std::string out = (temp_dir() / "cli.safetensors").string();
  fs::path err = temp_dir() / "stderr.txt";
  for (std::string budget : {"--cache-budget=4", "--cache-budget=-4", "--cache-fraction=2"}) {
    std::string cmd = std::string(LATENTASR_BINARY_DIR) + "/bin/asr-convert --input " + in +
                      " --output " + out + " --to mla " + budget + " > /dev/null 2> " +
                      err.string();
    int status = std::system(cmd.c_str());
    BOOST_REQUIRE(WIFEXITED(status));
    BOOST_CHECK_NE(WEXITSTATUS(status), 0);
    std::ifstream text(err);
    std::string message((std::istreambuf_iterator<char>(text)), std::istreambuf_iterator<char>());
    BOOST_CHECK(has(message, "asr-convert: --cache-"));
    BOOST_CHECK(!fs::exists(out));
  }
}

BOOST_AUTO_TEST_CASE(explicit_per_layer_ranks) {
  const asr::Config cfg = testing::tiny_config();
  auto mha = testing::tiny_model(cfg);
  asr::ConvertOptions o;
  o.to = "mla";
  o.latent_dims = {3, 9};
  asr::Conversion c = asr::convert_model(cfg, *mha, o);
  BOOST_CHECK_EQUAL(c.layers[0].latent_dim, 3);
  BOOST_CHECK_EQUAL(c.layers[1].latent_dim, 9);
  BOOST_CHECK(c.config.model.latent_dims == (std::vector<int64_t>{3, 9}));
  BOOST_CHECK_EQUAL(bytes_per_frame(*c.model), 12 * 4);
  auto error = [&](const asr::ConvertOptions& bad) {
    return testing::error_of([&] { asr::check_convert_options(cfg, bad); });
  };
  o.latent_dims = {3, 9, 4};
  BOOST_CHECK(has(error(o), "--latent-dims 3,9,4 has 3 entries for the model's 2 layers"));
  o.latent_dims = {3, 65};
  BOOST_CHECK(has(error(o), "--latent-dims 3,65: 65 must lie in [1, 2 * d_model = 64]"));
  o.latent_dims = {3, 4};
  o.energy = 0.9;
  BOOST_CHECK(has(error(o), "exclude each other: give one (got --latent-dims 3,4, --energy 0.9)"));
}
