// Checkpoints: round trip with config and optimizer state, atomic files, averaging, mismatch.
#include <unistd.h>
#include <boost/test/unit_test.hpp>

#include <filesystem>

#include "asr/model/checkpoint.h"
#include "common/gradcheck.h"
#include "nn/linear.h"
#include "nn/normalization.h"

using namespace ag;
namespace fs = std::filesystem;

namespace {
struct Tiny : nn::Module {
  std::shared_ptr<nn::Linear> lin;
  std::shared_ptr<nn::BatchNorm1d> bn;
  explicit Tiny(int64_t out = 3) {
    lin = register_module("lin", std::make_shared<nn::Linear>(4, out));
    bn = register_module("bn", std::make_shared<nn::BatchNorm1d>(out));
  }
};
std::string temp_dir(const std::string& name) {
  fs::path p = fs::temp_directory_path() / ("latentasr_ckpt_" + name + "_" + std::to_string(getpid()));
  fs::remove_all(p);
  fs::create_directories(p);
  return p.string();
}
}  // namespace

BOOST_AUTO_TEST_CASE(round_trip_with_optimizer_and_state) {
  std::string dir = temp_dir("roundtrip");
  manual_seed(1);
  Tiny model;
  nn::Adam opt(model.named_parameters(), 0.1f);
  for (auto& p : model.parameters()) p.set_grad(ones(p.shape()));
  opt.step();
  asr::TrainerState st{7, 2, 5, default_generator().state(), 1.5, 0.25};
  std::string path = asr::save_checkpoint(dir, model, &opt, "model:\n  d_model: 4\n", st, {});
  BOOST_CHECK_EQUAL(path, dir + "/step_7.safetensors");
  BOOST_CHECK(fs::exists(asr::optimizer_path(path)));
  for (auto& e : fs::directory_iterator(dir)) BOOST_CHECK(e.path().extension() != ".tmp");

  asr::LoadedCheckpoint c = asr::read_checkpoint(path);
  BOOST_CHECK_EQUAL(c.config_yaml, "model:\n  d_model: 4\n");
  BOOST_CHECK_EQUAL(c.state.step, 7);
  BOOST_CHECK_EQUAL(c.state.epoch, 2);
  BOOST_CHECK_EQUAL(c.state.batch_in_epoch, 5);
  BOOST_CHECK_EQUAL(c.state.rng, st.rng);
  BOOST_CHECK_CLOSE(c.state.dev_wer, 0.25, 1e-6);
  Tiny other;
  other.load_state_dict(c.model.tensors);
  BOOST_CHECK_EQUAL(testing::max_abs_diff(other.lin->weight, model.lin->weight), 0.0f);
  nn::Adam opt2(other.named_parameters(), 0.1f);
  opt2.load_state(c.optimizer);
  BOOST_CHECK_EQUAL(opt2.steps(), 1);
  fs::remove_all(dir);
}

BOOST_AUTO_TEST_CASE(attached_metadata_and_tensors_travel_beside_the_weights) {
  std::string dir = temp_dir("attached");
  Tiny model;
  nn::SafetensorsFile attached;
  attached.metadata["extra.text"] = "{\"type\": \"char\"}";
  attached.tensors.emplace_back("extra.mean", from_vector({1, 2, 3}, {3}));
  asr::TrainerState st;
  st.step = 4;
  std::string path = asr::save_checkpoint(dir, model, nullptr, "cfg", st, attached);
  asr::LoadedCheckpoint c = asr::read_checkpoint(path);
  BOOST_CHECK_EQUAL(c.model.metadata.at("extra.text"), "{\"type\": \"char\"}");
  BOOST_CHECK_EQUAL(c.model.metadata.at("config"), "cfg");
  BOOST_REQUIRE_EQUAL(c.model.tensors.size(), model.state_dict().size() + 1);
  BOOST_CHECK_EQUAL(c.model.tensors.back().first, "extra.mean");
  BOOST_TEST(c.model.tensors.back().second.to_vector() == (std::vector<float>{1, 2, 3}));
  // An attached part may not replace what the model or the checkpoint writes.
  nn::SafetensorsFile clash;
  clash.tensors.emplace_back("lin.weight", zeros({3, 4}));
  testing::check_error([&] { asr::save_checkpoint(dir, model, nullptr, "cfg", st, clash); },
                       "attached tensor 'lin.weight' has the name of a model tensor");
  clash.tensors.clear();
  clash.metadata["config"] = "other";
  testing::check_error([&] { asr::save_model_file(dir + "/m.safetensors", model, {{"config", "cfg"}}, clash); },
                       "attached metadata 'config' is already set");
  fs::remove_all(dir);
}

BOOST_AUTO_TEST_CASE(mismatched_model_names_the_parameter_and_shapes) {
  std::string dir = temp_dir("mismatch");
  Tiny model(3);
  std::string path = asr::save_checkpoint(dir, model, nullptr, "", {}, {});
  Tiny wider(5);
  testing::check_error([&] { wider.load(path); },
                       "'lin.weight' has shape [3,4] float32 in the checkpoint but [5,4] float32 in the model");
  fs::remove_all(dir);
}

BOOST_AUTO_TEST_CASE(average_equals_mean_of_inputs) {
  std::string dir = temp_dir("average");
  std::vector<std::string> paths;
  std::vector<Tiny*> models;
  std::vector<std::unique_ptr<Tiny>> keep;
  // Tensors equal in every file (the attached statistics) come out exactly as they went in,
  // where (a + a + a) / 3 need not.
  nn::SafetensorsFile attached;
  attached.tensors.emplace_back("stats.x", from_vector({0.1f, 1.7f, 1e-5f, -15.94f}, {4}));
  for (int i = 0; i < 3; ++i) {
    manual_seed(10 + i);
    keep.push_back(std::make_unique<Tiny>());
    asr::TrainerState st;
    st.step = i + 1;
    paths.push_back(asr::save_checkpoint(dir, *keep.back(), nullptr, "cfg", st, attached));
  }
  nn::SafetensorsFile avg = asr::average_checkpoints(paths);
  BOOST_CHECK_EQUAL(avg.metadata.at("averaged"), "3");
  for (auto& [name, t] : avg.tensors) {
    if (name == "stats.x") {
      BOOST_TEST(t.to_vector() == attached.tensors[0].second.to_vector());
      continue;
    }
    if (t.dtype() != DType::f32) continue;
    std::vector<float> got = t.to_vector();
    for (size_t k = 0; k < got.size(); ++k) {
      double mean = 0;
      for (auto& m : keep)
        for (auto& [n2, t2] : m->state_dict())
          if (n2 == name) mean += t2.to_vector()[k] / 3.0;
      BOOST_CHECK_SMALL(got[k] - mean, 1e-6);
    }
  }
  Tiny wider(5);
  asr::TrainerState st;
  st.step = 99;
  paths.push_back(asr::save_checkpoint(dir, wider, nullptr, "cfg", st, attached));
  testing::check_error([&] { asr::average_checkpoints(paths); }, "step_99.safetensors has 'lin.weight' [5,4]");
  fs::remove_all(dir);
}

BOOST_AUTO_TEST_CASE(a_failed_write_leaves_the_last_good_checkpoint) {
  // The disk fills up while step 3 is written over a good step 3: the write throws, and
  // both files of the good checkpoint still load with their old contents.
  std::string dir = temp_dir("full_disk");
  manual_seed(2);
  Tiny model;
  nn::Adam opt(model.named_parameters(), 0.1f);
  asr::TrainerState st{3, 0, 3, "", 0, -1};
  std::string path = asr::save_checkpoint(dir, model, &opt, "", st, {});
  std::vector<float> good = model.lin->weight.to_vector();
  model.lin->weight.data()[0] += 1;
  for (const std::string& file : {path, asr::optimizer_path(path)})
    fs::create_symlink("/dev/full", file + ".tmp");
  BOOST_CHECK_THROW(asr::save_checkpoint(dir, model, &opt, "", st, {}), std::exception);
  asr::LoadedCheckpoint c = asr::read_checkpoint(path);
  Tiny other;
  other.load_state_dict(c.model.tensors);
  BOOST_TEST(other.lin->weight.to_vector() == good);
  BOOST_TEST(c.state.batch_in_epoch == 3);
  fs::remove_all(dir);
}
