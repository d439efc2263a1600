// Surviving kill -9 (issue #18): asr-train, checkpointing on every step, is killed with SIGKILL
// ten times — five at random moments, five the moment a checkpoint's temporary file appears
// (inside a write) — and restarted with --resume auto after each kill. The run that finally
// completes ends with the same bytes in its last checkpoint (model and optimizer) and averaged
// model as a run that was never interrupted. Resuming is exact and training is reproducible
// across processes (test_reproducible_slow), so any difference is a checkpoint lost or misread.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <thread>
#include <vector>

#include "asr/train/checkpoint_keeper.h"
#include "asr/train/train_testing.h"
#include "common/run_tool.h"

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {
std::string bytes_of(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// asr-train with `args` in `cwd`, output appended to <cwd>/train.log; returns its pid.
pid_t start_training(const fs::path& cwd, const std::vector<std::string>& args) {
  const std::string exe = testing::tool("asr-train");
  const std::string log = (cwd / "train.log").string();
  pid_t pid = ::fork();
  BOOST_REQUIRE(pid >= 0);
  if (pid == 0) {
    if (::chdir(cwd.c_str()) != 0) ::_exit(126);
    int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd < 0) ::_exit(126);
    ::dup2(fd, 1);
    ::dup2(fd, 2);
    std::vector<char*> argv{const_cast<char*>(exe.c_str())};
    for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::execv(exe.c_str(), argv.data());
    ::_exit(127);
  }
  return pid;
}

// The temporary files of checkpoint writes in `dir`.
std::vector<fs::path> temporary_files(const fs::path& dir) {
  std::vector<fs::path> found;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
    if (it->path().extension() == ".tmp") found.push_back(it->path());
  return found;
}

// Whether the child has ended; its wait status is then in *status.
bool exited(pid_t pid, int* status) { return ::waitpid(pid, status, WNOHANG) == pid; }
}  // namespace

BOOST_AUTO_TEST_CASE(ten_kills_and_resumes_end_where_an_uninterrupted_run_ends) {
  const fs::path root = fs::path(testing::small_an4("kill_resume", 24, 4)).parent_path();
  testing::tiny_config((root / "data").string());
  const std::vector<std::string> common = {
      "--config", "config.yaml", "--max-steps", "40", "--set", "train.validate_every=1",
      "--set", "train.keep_checkpoints=3", "--set", "train.log_every=1"};
  auto with = [&](std::vector<std::string> more) {
    std::vector<std::string> a = common;
    a.insert(a.end(), more.begin(), more.end());
    return a;
  };

  // The uninterrupted run, timed: kills land inside its length.
  const auto t0 = Clock::now();
  int status = 0;
  ::waitpid(start_training(root, with({"--output-dir", "straight"})), &status, 0);
  BOOST_REQUIRE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  const double run_ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();

  const fs::path out = root / "killed";
  fs::create_directories(out);
  std::mt19937 rng(18);
  int in_write = 0;
  for (int kill = 0; kill < 10; ++kill) {
    // What an earlier kill left half written is garbage (a later write of that file truncates
    // it): removed, so that what this kill leaves is counted alone.
    for (const fs::path& stale : temporary_files(out)) fs::remove(stale);
    const pid_t pid = start_training(root, with({"--output-dir", out.string(), "--resume", "auto"}));
    // Each life runs 2-10% of an uninterrupted run; the last five then wait for a write.
    std::uniform_real_distribution<double> share(0.02, 0.10);
    const auto deadline = Clock::now() + std::chrono::duration<double, std::milli>(share(rng) * run_ms);
    bool ended = false;
    while (Clock::now() < deadline && !(ended = exited(pid, &status)))
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    if (kill >= 5)
      while (!ended && temporary_files(out).empty() && !(ended = exited(pid, &status)))
        std::this_thread::sleep_for(std::chrono::microseconds(100));
    if (!ended) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
    }
    BOOST_REQUIRE_MESSAGE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
                          "life " << kill << " ended before it was killed:\n" << bytes_of(root / "train.log"));
    in_write += !temporary_files(out).empty();
  }
  BOOST_TEST_MESSAGE(in_write << " of 10 kills left a checkpoint half written");
  BOOST_CHECK_GE(in_write, 1);
  BOOST_REQUIRE_MESSAGE(!asr::checkpoints_newest_first(out.string()).empty(), "no checkpoint after ten lives");

  ::waitpid(start_training(root, with({"--output-dir", out.string(), "--resume", "auto"})), &status, 0);
  BOOST_REQUIRE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  for (const char* name : {"step_40.safetensors", "step_40.optim.safetensors", "model.avg.safetensors"})
    BOOST_CHECK_MESSAGE(bytes_of(root / "straight" / name) == bytes_of(out / name),
                        name << " differs from the uninterrupted run's");
  fs::remove_all(root);
}
