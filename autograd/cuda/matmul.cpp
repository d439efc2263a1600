// GEMM through cuBLAS. cuBLAS is column-major: a row-major C [M, N] is a column-major C^T, so
// C = op(A) op(B) is computed as C^T = op(B)^T op(A)^T, i.e. with the operands swapped.
#include <cublas_v2.h>

#include <algorithm>
#include <array>
#include <climits>
#include <mutex>

#include "../cuda.h"
#include "../kernels/matmul.h"
#include "check.h"
#include "register.h"
#include "stream.h"

#define AG_CUBLAS_CHECK(call)                                                            \
  do {                                                                                   \
    cublasStatus_t ag_cublas_st_ = (call);                                               \
    if (ag_cublas_st_ != CUBLAS_STATUS_SUCCESS)                                          \
      ::ag::detail::fail(#call, " failed: ", cublasGetStatusName(ag_cublas_st_), " (",   \
                         cublasGetStatusString(ag_cublas_st_), ") at ", __FILE__, ":",    \
                         __LINE__);                                                      \
  } while (0)

namespace ag::cuda {
namespace {

constexpr int kMaxDevices = 64;

// One handle per device, bound to the device's stream; created on first use and kept for the
// life of the process.
cublasHandle_t handle() {
  static std::mutex mu;
  static std::array<cublasHandle_t, kMaxDevices> handles{};
  const int d = current_device();
  std::lock_guard<std::mutex> lock(mu);
  if (!handles[d]) {
    AG_CUBLAS_CHECK(cublasCreate(&handles[d]));
    AG_CUBLAS_CHECK(cublasSetStream(handles[d], stream()));
  }
  return handles[d];
}

int as_int(int64_t v, const char* what) {
  AG_CHECK(v >= 0 && v <= INT_MAX, "gemm (cuBLAS): ", what, " = ", v, " does not fit in an int");
  return static_cast<int>(v);
}

// Same contract as kernels::GemmFn (kernels/matmul.h).
void gemm(bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha, const float* A,
          int64_t sa, const float* B, int64_t sb, float beta, float* C, int64_t sc,
          int64_t batch) {
  if (M == 0 || N == 0 || batch == 0) return;
  cublasHandle_t h = handle();
  AG_CUBLAS_CHECK(cublasSetMathMode(h, allow_tf32() ? CUBLAS_TF32_TENSOR_OP_MATH
                                                    : CUBLAS_DEFAULT_MATH));
  const int m = as_int(M, "M"), n = as_int(N, "N"), k = as_int(K, "K");
  // Row-major leading dims, at least 1 as cuBLAS asks even when K == 0.
  const int lda = std::max(ta ? m : k, 1), ldb = std::max(tb ? k : n, 1);
  const cublasOperation_t opa = ta ? CUBLAS_OP_T : CUBLAS_OP_N;
  const cublasOperation_t opb = tb ? CUBLAS_OP_T : CUBLAS_OP_N;
  if (batch == 1) {
    AG_CUBLAS_CHECK(cublasSgemm(h, opb, opa, n, m, k, &alpha, B, ldb, A, lda, &beta, C, n));
    return;
  }
  AG_CUBLAS_CHECK(cublasSgemmStridedBatched(h, opb, opa, n, m, k, &alpha, B, ldb, sb, A, lda,
                                            sa, &beta, C, n, sc, as_int(batch, "batch")));
}

}  // namespace

void register_gemm_kernels() { kernels::gemm.set(Device::cuda, &gemm); }

}  // namespace ag::cuda
