// Which checkpoints stay on disk, and which one `--resume auto` starts from.
#include <boost/test/unit_test.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <unistd.h>

#include "asr/train/checkpoint_keeper.h"
#include "common/error_of.h"
#include "autograd/tensor.h"
#include "nn/safetensors.h"

namespace fs = std::filesystem;

namespace {

fs::path fresh_dir(const std::string& name) {
  fs::path d = fs::temp_directory_path() / ("latentasr_keeper_" + name + "_" + std::to_string(getpid()));
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

std::string model_file(const fs::path& dir, int64_t step) {
  return (dir / ("step_" + std::to_string(step) + ".safetensors")).string();
}

// A checkpoint's two files, as save_checkpoint lays them out, with small tensors.
void write_checkpoint(const fs::path& dir, int64_t step, bool with_optimizer = true) {
  const std::string path = model_file(dir, step);
  nn::save_safetensors(path, {{"w", ag::full({3}, static_cast<float>(step))}},
                       {{"step", std::to_string(step)}});
  if (with_optimizer)
    nn::save_safetensors(asr::optimizer_path(path), {{"m", ag::full({3}, 0.5f)}},
                         {{"step", std::to_string(step)}, {"epoch", "1"}});
}

}  // namespace

BOOST_AUTO_TEST_CASE(unvalidated_checkpoints_last_until_a_newer_one) {
  fs::path dir = fresh_dir("keep");
  asr::CheckpointKeeper keeper(2, 1);  // the newest 2 validated, the best 1, the newest of all
  auto add = [&](int64_t step, double wer) {
    write_checkpoint(dir, step);
    keeper.add({step, model_file(dir, step), wer, 1.0});
  };
  add(1, 0.5);
  add(2, -1);  // on time or on a signal: not validated
  BOOST_TEST(fs::exists(model_file(dir, 2)));
  add(3, 0.4);
  BOOST_TEST(!fs::exists(model_file(dir, 2)));
  BOOST_TEST(!fs::exists(asr::optimizer_path(model_file(dir, 2))));
  add(4, -1);
  add(5, -1);
  BOOST_TEST(!fs::exists(model_file(dir, 4)));
  // Unvalidated ones never push a validated one out of the newest keep_last.
  BOOST_TEST(fs::exists(model_file(dir, 1)));
  BOOST_TEST(fs::exists(model_file(dir, 3)));
  BOOST_TEST(fs::exists(model_file(dir, 5)));
  add(6, 0.6);
  add(7, 0.7);
  std::vector<int64_t> kept;
  for (const auto& r : keeper.kept()) kept.push_back(r.step);
  BOOST_TEST(kept == (std::vector<int64_t>{3, 6, 7}), "3 is the best, 6 and 7 the newest");
  for (int64_t step : {1, 2, 4, 5}) BOOST_TEST(!fs::exists(model_file(dir, step)), step);
}

BOOST_AUTO_TEST_CASE(best_is_the_lowest_wer_or_the_lowest_loss_as_configured) {
  // step: (dev WER, dev loss); WER and loss disagree, and steps 2 and 4 tie on WER.
  const std::vector<asr::CheckpointRecord> records = {
      {1, "", 1.10, 250.0}, {2, "", 1.02, 240.0}, {3, "", 1.05, 230.0}, {4, "", 1.02, 235.0}};
  auto best_steps = [&](asr::BestBy by) {
    fs::path dir = fresh_dir(by == asr::BestBy::kWer ? "by_wer" : "by_loss");
    asr::CheckpointKeeper keeper(10, 3, by);
    for (auto r : records) {
      write_checkpoint(dir, r.step);
      r.path = model_file(dir, r.step);
      keeper.add(r);
    }
    std::vector<int64_t> steps;
    for (const auto& r : keeper.best(3)) steps.push_back(r.step);
    return steps;
  };
  BOOST_TEST(best_steps(asr::BestBy::kWer) == (std::vector<int64_t>{4, 2, 3}), "WER, ties by loss");
  BOOST_TEST(best_steps(asr::BestBy::kLoss) == (std::vector<int64_t>{3, 4, 2}), "loss");
}

BOOST_AUTO_TEST_CASE(resume_auto_passes_over_damaged_checkpoints_to_the_newest_complete_one) {
  fs::path dir = fresh_dir("complete");
  for (int64_t step : {2, 10, 30}) write_checkpoint(dir, step);
  write_checkpoint(dir, 40, false);  // the optimizer file is missing
  {
    // The newest model file cut short (a disk that filled up, a copy that stopped).
    const std::string path = model_file(dir, 30);
    fs::resize_file(path, fs::file_size(path) - 5);
  }
  std::ostringstream log;
  std::optional<asr::FoundCheckpoint> found = asr::newest_complete_checkpoint(dir.string(), log);
  BOOST_REQUIRE(found.has_value());
  BOOST_TEST(found->path == model_file(dir, 10));
  BOOST_TEST(found->checkpoint.state.step == 10);
  BOOST_TEST(found->checkpoint.state.epoch == 1);
  BOOST_TEST(found->checkpoint.model.tensors.at(0).second.to_vector()[0] == 10.0f);
  const std::string said = log.str();
  BOOST_TEST(said.find("resume: passing over " + model_file(dir, 40) + " (" +
                       asr::optimizer_path(model_file(dir, 40)) + " is missing)") != std::string::npos,
             said);
  BOOST_TEST(said.find("resume: passing over " + model_file(dir, 30)) != std::string::npos, said);
  BOOST_TEST(said.find("has data offsets outside the file") != std::string::npos, said);
  // Moved aside, not deleted, and never picked again.
  BOOST_TEST(fs::exists(model_file(dir, 30) + ".damaged"));
  BOOST_TEST(fs::exists(asr::optimizer_path(model_file(dir, 30)) + ".damaged"));
  BOOST_TEST(fs::exists(model_file(dir, 40) + ".damaged"));
  BOOST_TEST(asr::latest_checkpoint(dir.string()) == model_file(dir, 10));
  std::ostringstream again;
  BOOST_TEST(asr::newest_complete_checkpoint(dir.string(), again)->path == model_file(dir, 10));
  BOOST_TEST(again.str().empty());
}

BOOST_AUTO_TEST_CASE(resume_auto_finds_nothing_where_there_is_no_checkpoint) {
  std::ostringstream log;
  fs::path dir = fresh_dir("none");
  BOOST_TEST(!asr::newest_complete_checkpoint(dir.string(), log).has_value());
  BOOST_TEST(!asr::newest_complete_checkpoint((dir / "absent").string(), log).has_value());
  write_checkpoint(dir, 5, false);
  BOOST_TEST(!asr::newest_complete_checkpoint(dir.string(), log).has_value());
  BOOST_TEST(asr::checkpoints_newest_first(dir.string()).empty());
}

BOOST_AUTO_TEST_CASE(checkpoints_are_listed_newest_first_by_step_number) {
  fs::path dir = fresh_dir("order");
  for (int64_t step : {9, 100, 10}) write_checkpoint(dir, step);
  std::ofstream(dir / "step_7.safetensors.tmp") << "half written";
  BOOST_TEST(asr::checkpoints_newest_first(dir.string()) ==
             (std::vector<std::string>{model_file(dir, 100), model_file(dir, 10), model_file(dir, 9)}));
  BOOST_TEST(asr::latest_checkpoint(dir.string()) == model_file(dir, 100));
  BOOST_TEST(asr::latest_checkpoint((dir / "absent").string()).empty());
}

BOOST_AUTO_TEST_CASE(malformed_records_are_refused_naming_the_file_and_record) {
  fs::path dir = fresh_dir("malformed");
  const std::string file = (dir / "checkpoints.json").string();
  asr::CheckpointKeeper keeper(2, 2);
  auto error_for = [&](const std::string& json) {
    std::ofstream(file) << json;
    return testing::error_of([&] { keeper.load(dir.string()); });
  };
  BOOST_TEST(error_for("{}") == file + " is not a JSON array");
  BOOST_TEST(error_for("[1]") == file + ": record 0 is not a JSON object");
  BOOST_TEST(error_for(R"([{"step": 1}, {"step": 2, "path": 0}])") ==
             file + ": record 1: \"path\" is not a string");
  BOOST_TEST(error_for(R"([{"step": "1"}])") == file + ": record 0: \"step\" is not an integer");
  BOOST_TEST(error_for(R"([{"dev_loss": null}])") ==
             file + ": record 0: \"dev_loss\" is not a number");
  BOOST_TEST(error_for(R"([{"step": 3, "path": "/tmp", "dev_wer": 0.5, "dev_loss": 1}])") ==
             "(no error)");
  BOOST_TEST(keeper.kept().size() == 1u);
}
