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
namespace {
[[noreturn]] void no_backend(const char* what) {
  detail::fail(what, ": this build has no CUDA backend (configure with -DLATENTASR_CUDA=ON "
                     "where nvcc is installed)");
}
bool tf32 = false;
}  // namespace

void install_cuda_backend() { no_backend("cuda"); }

namespace cuda {
bool built() { return false; }
bool available() { return false; }
int device_count() { return 0; }
void set_device(int) { no_backend("cuda::set_device"); }
void synchronize() { no_backend("cuda::synchronize"); }
void* stream_handle() { no_backend("cuda::stream_handle"); }
void set_allow_tf32(bool allow) { tf32 = allow; }
bool allow_tf32() { return tf32; }
PinnedBuffer::PinnedBuffer(size_t) { no_backend("cuda::PinnedBuffer"); }
PinnedBuffer::~PinnedBuffer() = default;
void copy_to_device_async(const Tensor&, const PinnedBuffer&) {
  no_backend("cuda::copy_to_device_async");
}
}  // namespace cuda
#endif

}  // namespace ag
