#include <cstdlib>

#include "communicator.h"
#include "mpi_communicator.h"
#include "single_process.h"

namespace dist {

bool launched_by_mpi() {
  for (const char* var : {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK"})
    if (std::getenv(var)) return true;
  return false;
}

Communicator& world() {
  static std::unique_ptr<Communicator> comm =
      launched_by_mpi() ? std::unique_ptr<Communicator>(std::make_unique<Mpi>())
                        : std::unique_ptr<Communicator>(std::make_unique<SingleProcess>());
  return *comm;
}

}  // namespace dist
