// Whole jobs under mpirun, started from the test: a failing rank ends the job, and a
// checkpoint of a 2-rank run resumes on 1 rank.
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "asr/model/checkpoint.h"
#include "asr/data/prepare.h"
#include "asr/train/trainer.h"
#include "common/an4.h"

namespace fs = std::filesystem;

namespace {

const std::string kBin = std::string(LATENTASR_BINARY_DIR) + "/bin";
const std::string kMpirun = "OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMP_NUM_THREADS=1 "
                            "timeout 120 mpirun -np 2 --oversubscribe --allow-run-as-root ";

struct Run {
  int code;
  double seconds;
  std::string output;
};

// Runs a shell command with its stdout and stderr captured.
Run run(const std::string& command, const fs::path& log) {
  auto t0 = std::chrono::steady_clock::now();
  int status = std::system((command + " > " + log.string() + " 2>&1").c_str());
  Run r{WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status),
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), ""};
  std::ostringstream os;
  os << std::ifstream(log).rdbuf();
  r.output = os.str();
  return r;
}

// A data folder from three AN4 speakers (two for training, one for dev) and a tiny config.
fs::path tiny_experiment(const std::string& name, int max_steps = 4) {
  fs::path root = fs::temp_directory_path() / ("latentasr_" + name);
  fs::remove_all(root);
  fs::path corpus = root / "corpus", an4 = testing::an4_dir();
  fs::create_directories(corpus / "train");
  fs::create_directories(corpus / "dev");
  for (const char* spk : {"1011", "1012"}) fs::create_directory_symlink(an4 / "train" / spk, corpus / "train" / spk);
  fs::create_directory_symlink(an4 / "dev" / "1006", corpus / "dev" / "1006");
  asr::PrepareOptions o;
  o.corpus = corpus.string();
  o.layout = "librispeech";
  o.out = (root / "data").string();
  o.threads = 1;
  asr::prepare_data_folder(o);
  std::ofstream(root / "config.yaml")
      << "seed: 7\n"
      << "model: {d_model: 32, num_layers: 1, num_heads: 2, ffn_dim: 64, conv_kernel: 7,"
      << " dropout: 0.0, positional_dropout: 0.0, attention_dropout: 0.0}\n"
      << "data: {train: " << o.out << "/train, dev: " << o.out << "/dev,"
      << " batch_frames: 3000, num_workers: 1, speed_perturb: false}\n"
      << "optim: {lr: 0.002}\n"
      << "schedule: {type: warmuplr, warmup_steps: 10}\n"
      << "train: {max_epochs: 0, max_steps: " << max_steps << ", accum_grad: 1, log_every: 1,"
      << " keep_checkpoints: 2, average_best: 1, threads: 1, bucket_mb: 0.05}\n";
  return root;
}

}  // namespace

BOOST_AUTO_TEST_CASE(a_failing_rank_ends_the_job_with_its_message) {
  fs::path log = fs::temp_directory_path() / "latentasr_throw_on_rank.log";
  Run r = run(kMpirun + std::string(LATENTASR_BINARY_DIR) + "/tests/dist_throw_on_rank 1", log);
  BOOST_TEST(r.code != 0);
  BOOST_TEST(r.code != 124, "mpirun hung until the timeout");
  BOOST_TEST(r.seconds < 30);
  BOOST_TEST(r.output.find("rank 1: throw_on_rank: deliberate failure") != std::string::npos, r.output);
}

BOOST_AUTO_TEST_CASE(a_two_rank_checkpoint_resumes_on_one_rank) {
  fs::path root = tiny_experiment("dist_resume");
  std::string cfg = (root / "config.yaml").string(), out = (root / "exp").string();
  Run two = run(kMpirun + kBin + "/asr-train --config " + cfg + " --output-dir " + out + " --max-steps 2",
                root / "two.log");
  BOOST_REQUIRE_MESSAGE(two.code == 0, two.output);
  BOOST_TEST(two.output.find("data parallel: 2 ranks") != std::string::npos, two.output);
  asr::LoadedCheckpoint c = asr::read_checkpoint(out + "/step_2.safetensors");
  BOOST_TEST(c.state.batch_in_epoch == 4);  // 2 steps x 2 ranks x 1 batch, counted for the job
  Run one = run("OMP_NUM_THREADS=1 " + kBin + "/asr-train --config " + cfg + " --output-dir " + out + " --resume",
                root / "one.log");
  BOOST_REQUIRE_MESSAGE(one.code == 0, one.output);
  // The job's 4 batches are 4 local batches on one rank.
  BOOST_TEST(one.output.find("resume: " + out + "/step_2.safetensors (step 2, epoch 0, batch 4)") !=
                 std::string::npos, one.output);
  BOOST_TEST(fs::exists(out + "/step_4.safetensors"));
}

BOOST_AUTO_TEST_CASE(sigterm_to_one_rank_stops_all_with_a_checkpoint) {
  fs::path root = tiny_experiment("dist_sigterm", 100000);
  std::string out = (root / "exp").string();
  // Start the job, wait for its first step, then signal one rank (a child of mpirun).
  std::string script = "(" + kMpirun + kBin + "/asr-train --config " + (root / "config.yaml").string() +
                       " --output-dir " + out + " > " + (root / "job.log").string() + " 2>&1; echo $? > " +
                       (root / "code").string() + ") & sleep 0.2; " +
                       "for i in $(seq 300); do grep -q 'step 1/' " + (root / "job.log").string() +
                       " 2>/dev/null && break; sleep 0.1; done; " +
                       "rank=$(pgrep -n -f 'asr-train --config " + (root / "config.yaml").string() + "'); " +
                       "kill -TERM $rank; wait";
  std::ofstream(root / "driver.sh") << script << "\n";
  Run r = run("bash " + (root / "driver.sh").string(), root / "driver.log");
  std::ostringstream job, code;
  job << std::ifstream(root / "job.log").rdbuf();
  code << std::ifstream(root / "code").rdbuf();
  BOOST_TEST(r.seconds < 60);
  BOOST_TEST(code.str() != "124\n", "the job hung:\n" << job.str());
  BOOST_TEST(job.str().find("interrupted by signal 15: checkpoint saved at step") != std::string::npos, job.str());
  BOOST_TEST(!asr::latest_checkpoint(out).empty());
}

BOOST_AUTO_TEST_CASE(two_ranks_train_like_one_process_with_their_combined_batches) {
  // One utterance per batch (every two utterances exceed batch_frames), so rank r's batch of
  // a step is the micro-batch r of one process accumulating 2: the same gradients, divided by
  // the same global count, give the same parameters.
  fs::path root = tiny_experiment("dist_equal", 3);
  std::string args = " --config " + (root / "config.yaml").string() +
                     " --set data.min_frames=151 --set data.max_frames=290 --set data.batch_frames=300"
                     // SGD without clipping: a gradient scaled wrongly would show (Adam hides it)
                     " --set optim.type=sgd --set optim.momentum=0.9 --set optim.clip_grad_norm=0";
  Run two = run(kMpirun + kBin + "/asr-train" + args + " --output-dir " + (root / "two").string(),
                root / "two.log");
  BOOST_REQUIRE_MESSAGE(two.code == 0, two.output);
  Run one = run("OMP_NUM_THREADS=1 " + kBin + "/asr-train" + args + " --set train.accum_grad=2 --output-dir " +
                    (root / "one").string(), root / "one.log");
  BOOST_REQUIRE_MESSAGE(one.code == 0, one.output);
  nn::SafetensorsFile a = nn::load_safetensors((root / "two" / "step_3.safetensors").string());
  nn::SafetensorsFile b = nn::load_safetensors((root / "one" / "step_3.safetensors").string());
  BOOST_REQUIRE_EQUAL(a.tensors.size(), b.tensors.size());
  size_t compared = 0;
  for (size_t i = 0; i < a.tensors.size(); ++i) {
    const auto& [name, x] = a.tensors[i];
    // Running statistics are averaged over ranks, not accumulated in sequence.
    if (name.find("running_") != std::string::npos || x.dtype() != ag::DType::f32) continue;
    BOOST_REQUIRE_EQUAL(name, b.tensors[i].first);
    std::vector<float> u = x.to_vector(), v = b.tensors[i].second.to_vector();
    for (size_t j = 0; j < u.size(); ++j)
      BOOST_TEST_REQUIRE(std::abs(u[j] - v[j]) <= 1e-5f * std::max(1.0f, std::abs(v[j])),
                         name << "[" << j << "]: " << u[j] << " vs " << v[j]);
    ++compared;
  }
  BOOST_TEST(compared > 10u);
}
