#include "launch.h"

#include <cstdlib>
#include <iostream>
#include <thread>

namespace dist {

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

int threads_per_rank(int configured, const Communicator& comm) {
  if (configured > 0) return configured;
  if (std::getenv("OMP_NUM_THREADS")) return 0;
  int cores = static_cast<int>(std::thread::hardware_concurrency());
  return std::max(1, cores / std::max(1, comm.local_size()));
}

}  // namespace dist
