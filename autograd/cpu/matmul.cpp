// CPU GEMM through OpenBLAS. Large products use OpenBLAS's own threads; many small
// ones (attention heads) run one per thread, each single-threaded inside the region.
#include <cblas.h>

#include <algorithm>

#include "../kernels/matmul.h"
#include "parallel.h"

namespace ag::cpu {
namespace {

void gemm(bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha, const float* A,
          int64_t sa, const float* B, int64_t sb, float beta, float* C, int64_t sc,
          int64_t batch) {
  if (M == 0 || N == 0 || batch == 0) return;
  const CBLAS_TRANSPOSE opa = ta ? CblasTrans : CblasNoTrans;
  const CBLAS_TRANSPOSE opb = tb ? CblasTrans : CblasNoTrans;
  const int64_t lda = ta ? M : K, ldb = tb ? K : N, ldc = N;
  auto one = [&](int64_t i) {
    cblas_sgemm(CblasRowMajor, opa, opb, M, N, K, alpha, A + i * sa, lda, B + i * sb, ldb, beta,
                C + i * sc, ldc);
  };
  // Per-product work below ~4 MFLOP gains little from threads inside one GEMM. A batch of
  // such products goes to the threads in runs of at least 2^18 multiply-adds: below that,
  // waking the threads costs more than the products (a beam's decoder step holds 40 products
  // of about 6,000; with OMP_WAIT_POLICY=passive each parallel region is a futex wake-up).
  const int64_t macs = M * N * K;
  const bool small = macs < (int64_t{1} << 21);
  if (batch > 1 && small) {
    const int64_t grain = std::max<int64_t>(1, (int64_t{1} << 18) / std::max<int64_t>(macs, 1));
    parallel_for(batch, grain, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) one(i);
    });
  } else {
    for (int64_t i = 0; i < batch; ++i) one(i);
  }
}

}  // namespace
}  // namespace ag::cpu

namespace ag::kernels {
KernelTable<GemmFn> gemm{"gemm", {&cpu::gemm, nullptr}};
}  // namespace ag::kernels
