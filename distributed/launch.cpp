#include "launch.h"

#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <string>
#include <vector>

namespace dist {

namespace {

// A 48-bit hash (a double holds it exactly) of this machine's name and of the affinity mask.
struct Placement {
  double host, mask;
};

Placement placement(const cpu_set_t& set) {
  char name[256] = {};
  gethostname(name, sizeof name - 1);
  const auto h48 = [](const std::string& s) {
    return static_cast<double>(std::hash<std::string>{}(s) & ((uint64_t{1} << 48) - 1));
  };
  std::string cpus;
  for (int c = 0; c < CPU_SETSIZE; ++c)
    if (CPU_ISSET(c, &set)) cpus += std::to_string(c) + ",";
  return {h48(name), h48(cpus)};
}

cpu_set_t affinity() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) != 0) CPU_SET(0, &set);  // unknown: one CPU
  return set;
}

// The ranks (this one included) on this machine whose affinity mask equals this rank's.
// Collective: every rank contributes its placement in its own slots of one sum.
int ranks_sharing(const cpu_set_t& set, Communicator& comm) {
  const size_t n = static_cast<size_t>(comm.world_size());
  std::vector<double> all(2 * n, 0.0);
  const Placement me = placement(set);
  all[2 * static_cast<size_t>(comm.rank())] = me.host;
  all[2 * static_cast<size_t>(comm.rank()) + 1] = me.mask;
  comm.all_reduce(all.data(), all.size(), ReduceOp::sum);
  int sharing = 0;
  for (size_t r = 0; r < n; ++r) sharing += all[2 * r] == me.host && all[2 * r + 1] == me.mask;
  return std::max(1, sharing);
}

}  // namespace

int run_guarded(const char* program, const std::function<int()>& body) {
  try {
    return body();
  } catch (const std::exception& e) {
    if (!launched_by_mpi()) {
      std::cerr << program << ": " << e.what() << "\n";
      return 1;
    }
    std::cerr << "rank " << world().rank() << ": " << program << ": " << e.what() << std::endl;
    world().abort(1);
    std::_Exit(1);  // abort() does not return; the compiler cannot see that through virtual
  }
}

int cpus_allowed() {
  cpu_set_t set = affinity();
  return std::max(1, CPU_COUNT(&set));
}

int threads_per_rank(int configured, Communicator& comm) {
  if (configured > 0) return configured;
  // Collective before the environment is read: every rank takes part whatever its own is.
  const cpu_set_t set = affinity();
  const int sharing = ranks_sharing(set, comm);
  if (std::getenv("OMP_NUM_THREADS")) return 0;
  return std::max(1, CPU_COUNT(&set) / sharing);
}

}  // namespace dist
