// Training is bit-reproducible across processes (issue #18): two asr-train runs of one config
// with the same thread count, in separate processes, write byte-identical checkpoints (model
// and optimizer files, and the averaged model). The config switches on everything that draws
// random numbers or reduces across threads: dropout, SpecAugment, speed perturbation, gradient
// clipping on every step, feed-forward weights larger than one parallel block of the norm.
#include <boost/test/unit_test.hpp>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "asr/train/train_testing.h"
#include "common/run_tool.h"

namespace fs = std::filesystem;

namespace {
std::string bytes_of(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// The files of a training run that must not depend on the process: every .safetensors file.
std::vector<std::string> model_files(const fs::path& dir) {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.path().extension() == ".safetensors") names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}
}  // namespace

BOOST_AUTO_TEST_CASE(two_processes_write_identical_checkpoints) {
  const fs::path root = fs::path(testing::small_an4("reproducible", 24, 4)).parent_path();
  testing::tiny_config((root / "data").string());
  const std::string args =
      " --config config.yaml --max-steps 12"
      " --set model.d_model=96 --set model.ffn_dim=384 --set data.speed_perturb=true"
      " --set optim.clip_grad_norm=0.5 --set train.threads=3 --set train.validate_every=4";
  for (const char* out : {"a", "b"})
    BOOST_REQUIRE_EQUAL(testing::run_in(root, testing::tool("asr-train") + args + " --output-dir " + out).rc, 0);

  const std::vector<std::string> files = model_files(root / "a");
  BOOST_REQUIRE_EQUAL(files.size(), 7u);  // steps 4, 8, 12 (model + optimizer) and the average
  BOOST_REQUIRE(files == model_files(root / "b"));
  for (const std::string& name : files)
    BOOST_CHECK_MESSAGE(bytes_of(root / "a" / name) == bytes_of(root / "b" / name),
                        name << " differs between two runs of one config");
  fs::remove_all(root);
}
