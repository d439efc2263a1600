// Whole jobs under mpirun, started from the test: a failing rank ends the job, a checkpoint
// of a 2-rank run resumes on 1 rank, a killed job requeued with --resume auto ends as if never
// stopped; and threads per rank follow the CPU affinity mask.
#include <sched.h>
#include <sys/wait.h>
#include <unistd.h>
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "asr/model/checkpoint.h"
#include "asr/data/prepare.h"
#include "asr/train/checkpoint_keeper.h"
#include "asr/train/trainer.h"
#include "common/an4.h"
#include "distributed/launch.h"

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
  // The pid in the name: tests of two builds may run at once (and signal by this path).
  fs::path root = fs::temp_directory_path() / ("latentasr_" + name + "_" + std::to_string(getpid()));
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

// Runs f in a forked child (which may change its affinity mask and environment freely) and
// returns what it returned, 0..255.
int in_child(const std::function<int()>& f) {
  pid_t pid = fork();
  if (pid == 0) {
    try {
      std::_Exit(f());
    } catch (...) {
      std::_Exit(255);  // never back into the test runner
    }
  }
  int status = 0;
  waitpid(pid, &status, 0);
  BOOST_REQUIRE(WIFEXITED(status));
  return WEXITSTATUS(status);
}

// Rank 0 of two ranks. In the sums of all_reduce the other rank contributes what rank 0 does
// (`twin`: the same machine and affinity mask), or nothing (another machine).
class TwoRanks : public dist::Communicator {
 public:
  explicit TwoRanks(bool twin) : twin_(twin) {}
  int rank() const override { return 0; }
  int world_size() const override { return 2; }
  int local_rank() const override { return 0; }
  int local_size() const override { return 2; }
  void all_reduce(float*, size_t, dist::ReduceOp) override { unexpected(); }
  void all_reduce(double* data, size_t n, dist::ReduceOp op) override {
    if (op != dist::ReduceOp::sum) unexpected();
    if (twin_) std::copy(data, data + n / 2, data + n / 2);  // rank 1's slots hold its copy
  }
  std::unique_ptr<dist::Request> all_reduce_async(float*, size_t, dist::ReduceOp) override {
    unexpected();
  }
  void broadcast(void*, size_t, int) override { unexpected(); }
  void barrier() override {}
  [[noreturn]] void abort(int code) override { std::_Exit(code); }

 private:
  [[noreturn]] static void unexpected() { throw std::logic_error("TwoRanks: unexpected call"); }
  bool twin_;
};

}  // namespace

BOOST_AUTO_TEST_CASE(threads_follow_the_affinity_mask_not_the_machine) {
  cpu_set_t mine;
  BOOST_REQUIRE(sched_getaffinity(0, sizeof mine, &mine) == 0);
  const int cpus = CPU_COUNT(&mine);
  BOOST_TEST(dist::cpus_allowed() == cpus);
  // Unset in the children: OMP_NUM_THREADS would decide instead (ctest sets it).
  BOOST_TEST(in_child([] {
               unsetenv("OMP_NUM_THREADS");
               return dist::threads_per_rank(0, dist::world());
             }) == cpus);
  // Restricted to one CPU, as `taskset -c N` or a launcher's binding would.
  BOOST_TEST(in_child([&] {
               int first = 0;
               while (!CPU_ISSET(first, &mine)) ++first;
               cpu_set_t one;
               CPU_ZERO(&one);
               CPU_SET(first, &one);
               if (sched_setaffinity(0, sizeof one, &one) != 0) return 99;
               unsetenv("OMP_NUM_THREADS");
               return 10 * dist::cpus_allowed() + dist::threads_per_rank(0, dist::world());
             }) == 11);
  BOOST_TEST(in_child([] {
               setenv("OMP_NUM_THREADS", "3", 1);
               return dist::threads_per_rank(0, dist::world());
             }) == 0);  // OpenMP reads OMP_NUM_THREADS itself
  BOOST_TEST(dist::threads_per_rank(5, dist::world()) == 5);
}

BOOST_AUTO_TEST_CASE(ranks_with_the_same_mask_on_one_machine_share_its_cpus) {
  const int cpus = dist::cpus_allowed();
  BOOST_TEST(in_child([&] {
               unsetenv("OMP_NUM_THREADS");
               TwoRanks twin(true);
               return dist::threads_per_rank(0, twin);
             }) == std::max(1, cpus / 2));
  BOOST_TEST(in_child([&] {
               unsetenv("OMP_NUM_THREADS");
               TwoRanks elsewhere(false);
               return dist::threads_per_rank(0, elsewhere);
             }) == cpus);
}

BOOST_AUTO_TEST_CASE(a_failing_rank_ends_the_job_with_its_message) {
  fs::path log = fs::temp_directory_path() / "latentasr_throw_on_rank.log";
  Run r = run(kMpirun + std::string(LATENTASR_BINARY_DIR) + "/tests/dist_throw_on_rank 1", log);
  BOOST_TEST(r.code != 0);
  BOOST_TEST(r.code != 124, "mpirun hung until the timeout");
  BOOST_TEST(r.seconds < 30);
  BOOST_TEST(r.output.find("rank 1: throw_on_rank: deliberate failure") != std::string::npos, r.output);
}

// train.collective_timeout_s: one rank of a training job stops inside a step (SIGSTOP, as a
// hung process or a dead peer looks to the others); the other rank's collective times out and
// the whole job ends within the timeout plus 10 s, naming the rank, the call and the step.
BOOST_AUTO_TEST_CASE(a_hung_rank_ends_the_job_after_the_collective_timeout) {
  fs::path root = tiny_experiment("dist_hang", 100000);
  const std::string log = (root / "job.log").string(), config = (root / "config.yaml").string();
  std::string script = "(" + kMpirun + kBin + "/asr-train --config " + config +
                       " --set train.collective_timeout_s=3 --output-dir " + (root / "exp").string() +
                       " > " + log + " 2>&1; echo $? > " + (root / "code").string() + ") & sleep 0.2; " +
                       "for i in $(seq 300); do grep -q 'step 1/' " + log + " 2>/dev/null && break; sleep 0.1; done; " +
                       "rank=$(pgrep -n -f 'asr-train --config " + config + "'); " +
                       "kill -STOP $rank && echo $rank > " + (root / "stopped").string() + "; " +
                       "start=$(date +%s%N); wait; " +
                       "echo $(( ($(date +%s%N) - start) / 1000000 )) > " + (root / "milliseconds").string();
  std::ofstream(root / "driver.sh") << script << "\n";
  Run r = run("bash " + (root / "driver.sh").string(), root / "driver.log");
  std::ostringstream job, code;
  job << std::ifstream(log).rdbuf();
  code << std::ifstream(root / "code").rdbuf();
  long ms = -1;
  std::ifstream(root / "milliseconds") >> ms;
  BOOST_REQUIRE_MESSAGE(fs::exists(root / "stopped"), "no rank was running to stop:\n" << job.str());
  BOOST_TEST(job.str().find("step 1/") != std::string::npos, job.str());  // stopped inside training
  BOOST_TEST(code.str() != "0\n", job.str());
  BOOST_TEST(code.str() != "124\n", "the job hung until timeout(1) ended it:\n" << job.str());
  BOOST_TEST_MESSAGE("the job ended " << ms << " ms after the rank stopped");
  BOOST_TEST((ms > 0 && ms <= 3000 + 10000), ms << " ms:\n" << job.str());
  const std::regex said("rank [01]: (MPI_Allreduce|MPI_Wait \\(all-reduce\\)|MPI_Bcast|MPI_Barrier) at step [0-9]+ "
                        "waited more than 3 s for the other ranks");
  BOOST_TEST(std::regex_search(job.str(), said), job.str());
  BOOST_TEST(r.seconds < 60);
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

BOOST_AUTO_TEST_CASE(a_killed_job_requeued_with_resume_auto_ends_like_an_uninterrupted_one) {
  // A checkpoint at every step boundary (a tiny train.checkpoint_every_minutes; validation,
  // which would write checkpoints too, only at the end), and the same command line for the
  // first start and every requeue, as in a cluster job script.
  fs::path root = tiny_experiment("dist_requeue", 30);
  const std::string job = kMpirun + kBin + "/asr-train --config " + (root / "config.yaml").string() +
                          " --set train.checkpoint_every_minutes=1e-9 --set train.validate_every=1000"
                          " --resume auto --output-dir ";
  const std::string straight = (root / "straight").string(), out = (root / "exp").string();
  Run fresh = run(job + straight, root / "straight.log");
  BOOST_REQUIRE_MESSAGE(fresh.code == 0, fresh.output);
  BOOST_TEST(fresh.output.find("resume: no complete checkpoint in " + straight + "; starting fresh") !=
                 std::string::npos, fresh.output);
  BOOST_TEST(fresh.output.find("checkpoint at step 1 (train.checkpoint_every_minutes)") !=
                 std::string::npos, fresh.output);
  // The job killed without warning (SIGKILL: no checkpoint on the way out) after step 8.
  const std::string log = (root / "killed.log").string();
  std::ofstream(root / "driver.sh") << "(" << job << out << " > " << log << " 2>&1) & sleep 0.2; "
                                    << "for i in $(seq 600); do grep -q 'step 8/' " << log
                                    << " 2>/dev/null && break; sleep 0.05; done; "
                                    << "rank=$(pgrep -n -f 'asr-train --config " << (root / "config.yaml").string()
                                    << "'); kill -KILL $rank; wait\n";
  Run killed = run("bash " + (root / "driver.sh").string(), root / "driver.log");
  std::ostringstream first;
  first << std::ifstream(log).rdbuf();
  BOOST_REQUIRE_MESSAGE(first.str().find("step 8/") != std::string::npos, first.str());
  BOOST_REQUIRE_MESSAGE(!fs::exists(out + "/step_30.safetensors"), "the job ended before the kill");
  BOOST_TEST(first.str().find("interrupted") == std::string::npos, first.str());
  BOOST_TEST(!asr::latest_checkpoint(out).empty());
  // Requeued: continues from the newest checkpoint and ends with the same parameters.
  Run requeued = run(job + out, root / "requeued.log");
  BOOST_REQUIRE_MESSAGE(requeued.code == 0, requeued.output);
  BOOST_TEST(requeued.output.find("resume: " + out + "/step_") != std::string::npos, requeued.output);
  nn::SafetensorsFile a = nn::load_safetensors(straight + "/step_30.safetensors");
  nn::SafetensorsFile b = nn::load_safetensors(out + "/step_30.safetensors");
  BOOST_REQUIRE_EQUAL(a.tensors.size(), b.tensors.size());
  for (size_t i = 0; i < a.tensors.size(); ++i) {
    BOOST_REQUIRE_EQUAL(a.tensors[i].first, b.tensors[i].first);
    const ag::Tensor &x = a.tensors[i].second, &y = b.tensors[i].second;
    BOOST_REQUIRE(x.shape() == y.shape() && x.dtype() == y.dtype());
    BOOST_TEST(std::memcmp(x.raw(), y.raw(), static_cast<size_t>(x.numel()) * ag::dtype_size(x.dtype())) == 0,
               a.tensors[i].first << " differs after the requeue");
  }
}

BOOST_AUTO_TEST_CASE(resume_takes_no_value_or_auto) {
  fs::path log = fs::temp_directory_path() / "latentasr_resume_value.log";
  Run r = run(kBin + "/asr-train --config " + LATENTASR_SOURCE_DIR + "/recipes/an4/demo.yaml --output-dir " +
                  (fs::temp_directory_path() / "latentasr_resume_value").string() + " --resume latest",
              log);
  BOOST_TEST(r.code == 2);
  BOOST_TEST(r.output.find("asr-train: --resume takes no value or 'auto', got 'latest'") != std::string::npos,
             r.output);
}
