// Test helper: `throw_on_rank R` throws on rank R while the other ranks wait in a barrier
// that R never reaches. Under run_guarded the job must end at once with R's message.
#include <stdexcept>
#include <string>

#include "distributed/launch.h"

int main(int argc, char** argv) {
  const int bad = argc > 1 ? std::stoi(argv[1]) : 1;
  return dist::run_guarded("throw_on_rank", [&] {
    dist::Communicator& comm = dist::world();
    if (comm.rank() == bad) throw std::runtime_error("deliberate failure");
    comm.barrier();
    return 0;
  });
}
