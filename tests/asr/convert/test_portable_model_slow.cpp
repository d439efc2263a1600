// A model file is the whole model: trained in one folder on a prepared AN4 subset, it is
// evaluated from another working directory with that data folder deleted, on an AN4 split
// folder given directly; converted, the MLA model does the same; scripts/load_in_pytorch.py
// reads its tokenizer and CMVN statistics out of the file; an older file without them fails
// naming what it lacks.
#include <boost/test/unit_test.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "asr/data/char_tokenizer.h"
#include "asr/data/model_assets.h"
#include "asr/train/train_testing.h"
#include "common/an4.h"
#include "common/run_tool.h"

namespace fs = std::filesystem;
using testing::Run;
using testing::run_in;
using testing::tool;

namespace {

nlohmann::json eval_json(const fs::path& dir) {
  std::ifstream in(dir / "eval.json");
  return nlohmann::json::parse(in);
}

}  // namespace

BOOST_AUTO_TEST_CASE(a_model_file_evaluates_anywhere_without_its_data_folder) {
  // Training in folder A with data paths relative to it, as a user would.
  const fs::path a = fs::path(testing::small_an4("portable", 8, 4)).parent_path();
  testing::tiny_config(a / "data");
  Run train = run_in(a, tool("asr-train") +
                            " --config config.yaml --output-dir exp --max-steps 4"
                            " --set data.train=data/train --set data.dev=data/dev"
                            " --set train.validate_every=2 --set train.log_every=2");
  BOOST_REQUIRE_EQUAL(train.rc, 0);
  const fs::path model = a / "exp" / "model.avg.safetensors";
  BOOST_REQUIRE(fs::exists(model));
  fs::remove_all(a / "data");

  // Another working directory; the AN4 dev split folder itself (LibriSpeech layout).
  const fs::path b = a / "elsewhere";
  fs::create_directories(b);
  const std::string dev = (testing::an4_dir() / "dev").string();
  Run eval = run_in(b, tool("asr-eval") + " --checkpoint ../exp/model.avg.safetensors --data " +
                           dev + " --beam 1 --out eval_mha");
  BOOST_REQUIRE_EQUAL(eval.rc, 0);
  nlohmann::json j = eval_json(b / "eval_mha");
  BOOST_CHECK_GT(j["utterances"].get<int64_t>(), 50);
  BOOST_CHECK(fs::exists(b / "eval_mha" / "manifest.jsonl"));  // the prepared split

  // Converted (its quality measured on the split folder too), the MLA model keeps the parts.
  Run convert = run_in(b, tool("asr-convert") +
                              " --input ../exp/model.avg.safetensors --output mla.safetensors"
                              " --to mla --latent-dim 32 --test-quality " + dev + " --test-utts 8");
  BOOST_REQUIRE_EQUAL(convert.rc, 0);
  eval = run_in(b, tool("asr-eval") + " --checkpoint mla.safetensors --data " + dev +
                       " --beam 1 --out eval_mla");
  BOOST_REQUIRE_EQUAL(eval.rc, 0);
  BOOST_CHECK_EQUAL(eval_json(b / "eval_mla")["attention"], "mla");

  // PyTorch reads the tokenizer and the normalization out of the converted file.
  nn::SafetensorsFile file = nn::load_safetensors((b / "mla.safetensors").string());
  std::optional<asr::ModelAssets> assets = asr::embedded_assets(file, "mla.safetensors");
  BOOST_REQUIRE(assets && assets->cmvn);
  Run py = run_in(b, "/usr/bin/python3 " + std::string(LATENTASR_SOURCE_DIR) +
                         "/scripts/load_in_pytorch.py mla.safetensors");
  BOOST_REQUIRE_EQUAL(py.rc, 0);
  nlohmann::json p = nlohmann::json::parse(py.out);
  BOOST_CHECK_EQUAL(p["tokenizer"]["type"], "char");
  BOOST_CHECK(p["tokenizer"]["pieces"].get<std::vector<std::string>>() ==
              asr::CharTokenizer::default_pieces());
  std::vector<float> mean = assets->cmvn->mean(), stddev = assets->cmvn->stddev();
  BOOST_REQUIRE_EQUAL(p["cmvn_mean"].size(), mean.size());
  for (size_t f = 0; f < mean.size(); ++f) {
    BOOST_CHECK_EQUAL(p["cmvn_mean"][f].get<float>(), mean[f]);
    BOOST_CHECK_EQUAL(p["cmvn_std"][f].get<float>(), stddev[f]);
    BOOST_CHECK_CLOSE(p["normalized_zeros"][f].get<double>(), -mean[f] / stddev[f], 1e-4);
  }

  // A file without the parts (as written before) falls back to the deleted data folder.
  nn::Metadata meta = file.metadata;
  meta.erase("tokenizer.json");
  nn::save_safetensors((b / "old.safetensors").string(), asr::model_weights(file.tensors), meta);
  eval = run_in(b, tool("asr-eval") + " --checkpoint old.safetensors --data " + dev);
  BOOST_CHECK_NE(eval.rc, 0);
  BOOST_CHECK(eval.out.find("old.safetensors carries no tokenizer or CMVN statistics (an older "
                            "model file)") != std::string::npos);
  fs::remove_all(a);
}
