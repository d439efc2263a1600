#include "backends.h"

#include "cuda.h"
#include "error.h"

#ifdef LATENTASR_CUDA
#include <mutex>

#include "cuda/register.h"
#endif

namespace ag {

#ifdef LATENTASR_CUDA
void install_cuda_backend() {
  static std::once_flag once;
  std::call_once(once, [] { cuda::register_backend(); });
}
#else
void install_cuda_backend() {
  AG_CHECK(false, "cuda: this build has no CUDA backend (configure with -DLATENTASR_CUDA=ON "
                  "where nvcc is installed)");
}

namespace cuda {
bool available() { return false; }
int device_count() { return 0; }
}  // namespace cuda
#endif

}  // namespace ag
