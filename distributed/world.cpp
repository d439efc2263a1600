#include <cstdlib>

#include "communicator.h"
#include "mpi_communicator.h"
#include "single_process.h"
#ifdef LATENTASR_NCCL
#include "nccl_communicator.h"
#endif
#include "autograd/error.h"

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

#ifdef LATENTASR_NCCL
bool nccl_built() { return true; }
std::unique_ptr<Communicator> make_nccl(Communicator& bootstrap) {
  return std::make_unique<Nccl>(bootstrap);
}
#else
bool nccl_built() { return false; }
std::unique_ptr<Communicator> make_nccl(Communicator&) {
  ag::detail::fail("NCCL: this build has no NCCL communicator (configure with "
                   "-DLATENTASR_NCCL=ON where the CUDA toolkit and NCCL are installed)");
}
#endif

}  // namespace dist
