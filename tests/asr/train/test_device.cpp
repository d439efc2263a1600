// The compute device of asr-train and asr-eval: `train.device: cuda` (or `asr-eval --device
// cuda`) where no GPU answers, or in a build without CUDA, stops at start with one line and a
// non-zero exit; the CPU path passes batches through untouched. The CUDA path itself is tested in tests/gpu/test_train.cpp.
#include <sys/wait.h>
#include <unistd.h>
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "asr/model/device.h"
#include "asr/eval/eval_tool.h"
#include "asr/train/trainer.h"
#include "autograd/cuda.h"
#include "autograd/ops.h"
#include "common/gradcheck.h"

namespace fs = std::filesystem;
using testing::check_error;

namespace {

boost::test_tools::assertion_result no_gpu(boost::unit_test::test_unit_id) {
  boost::test_tools::assertion_result r(!ag::cuda::available());
  r.message() << "a CUDA device is present";
  return r;
}

// What a CUDA request says where none can run, in this build.
std::string expected_reason() {
  return ag::cuda::built() ? "no CUDA device answers" : "this build has no CUDA backend";
}

// A config whose data need not exist: the device check comes before any data is read.
fs::path cuda_config() {
  fs::path dir = fs::temp_directory_path() / ("latentasr_device_" + std::to_string(getpid()));
  fs::create_directories(dir);
  std::ofstream(dir / "config.yaml") << "data: {train: " << (dir / "none/train").string()
                                     << ", dev: " << (dir / "none/dev").string() << "}\n"
                                     << "train: {device: cuda}\n";
  return dir;
}

}  // namespace

BOOST_AUTO_TEST_CASE(cpu_is_always_there) {
  BOOST_CHECK(asr::select_device("cpu", "train.device") == ag::Device::cpu);
  check_error([] { asr::select_device("tpu", "train.device"); },
              "train.device is 'tpu', neither cpu nor cuda");
  asr::FeatureUploader upload(ag::Device::cpu);
  ag::Tensor feats = ag::normal({2, 5, 3});
  BOOST_CHECK(upload(feats).same(feats));
}

BOOST_AUTO_TEST_CASE(cuda_without_gpu_fails_naming_the_setting,
                     *boost::unit_test::precondition(no_gpu)) {
  check_error([] { asr::select_device("cuda", "train.device"); }, "train.device is cuda, but");
  check_error([] { asr::select_device("cuda", "--device"); }, expected_reason());
  fs::path dir = cuda_config();
  asr::TrainOptions o;
  o.config = (dir / "config.yaml").string();
  o.output_dir = (dir / "exp").string();
  check_error([&] { asr::train(o); }, "train.device is cuda, but " + expected_reason());
  BOOST_CHECK(!fs::exists(dir / "exp"));  // stopped before making anything
  fs::remove_all(dir);
  asr::EvalToolOptions e;
  e.checkpoint = "missing.safetensors";
  e.data = "missing";
  e.device = "cuda";
  check_error([&] { asr::run_eval(e); }, "--device is cuda, but " + expected_reason());
}

// The tool's view: exit code 1 and exactly one line on stderr.
BOOST_AUTO_TEST_CASE(asr_train_device_cuda_without_gpu_exits_with_one_line,
                     *boost::unit_test::precondition(no_gpu)) {
  fs::path dir = cuda_config();
  const fs::path err = dir / "stderr.txt";
  const std::string cmd = std::string(LATENTASR_BINARY_DIR) + "/bin/asr-train --config " +
                          (dir / "config.yaml").string() + " --output-dir " +
                          (dir / "exp").string() + " > /dev/null 2> " + err.string();
  const int status = std::system(cmd.c_str());
  BOOST_REQUIRE_MESSAGE(WIFEXITED(status), "asr-train did not exit: " << cmd);
  BOOST_CHECK_EQUAL(WEXITSTATUS(status), 1);
  std::ifstream in(err);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  BOOST_TEST_MESSAGE("asr-train said: " << text);
  BOOST_CHECK_EQUAL(std::count(text.begin(), text.end(), '\n'), 1);
  BOOST_CHECK(text.rfind("asr-train: train.device is cuda, but " + expected_reason(), 0) == 0);
  fs::remove_all(dir);
}
