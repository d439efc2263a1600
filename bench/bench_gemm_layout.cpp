// One streaming chunk's matrix products in the two layouts a cache can have: OpenBLAS
// single-threaded, C[M, N] = A[M, K] . B with B stored [K, N] ("A.B") or [N, K] ("A.B^T", how
// the key, latent and position caches are stored today). Shapes are the AN4 demo's streaming
// chunk (T = 16 queries, d_model 128, 4 heads, d_k 32, latent 32) over 766 held frames (the
// mean of a 60 s stream): the FFN and projection linears, per-head scores and weighted values
// (MHA), and mla's absorbed scores and weighted latents, per head (M = 16) and with the heads
// stacked (M = 64). Prints microseconds per product and GFLOP/s. Run with OMP_NUM_THREADS=1.
#include <cblas.h>

#include <chrono>
#include <cstdio>
#include <vector>

namespace {

struct Shape {
  const char* what;
  int M, N, K;
};

double microseconds(const Shape& s, bool b_transposed) {
  std::vector<float> a(static_cast<size_t>(s.M) * s.K, 0.5f),
      b(static_cast<size_t>(s.N) * s.K, 0.25f), c(static_cast<size_t>(s.M) * s.N);
  const CBLAS_TRANSPOSE tb = b_transposed ? CblasTrans : CblasNoTrans;
  const int ldb = b_transposed ? s.K : s.N;
  auto run = [&] {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, tb, s.M, s.N, s.K, 1.0f, a.data(), s.K, b.data(),
                ldb, 0.0f, c.data(), s.N);
  };
  for (int i = 0; i < 100; ++i) run();
  double best = 1e30;
  for (int round = 0; round < 5; ++round) {
    const int reps = 2000;
    const auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < reps; ++i) run();
    const double us =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() * 1e6 / reps;
    if (us < best) best = us;
  }
  return best;
}

}  // namespace

int main() {
  const Shape shapes[] = {{"linear d -> 4d (FFN in)", 16, 512, 128},
                          {"linear 4d -> d (FFN out)", 16, 128, 512},
                          {"linear d -> d (projection)", 16, 128, 128},
                          {"scores per head, q . K^T", 16, 766, 32},
                          {"values per head, P . V", 16, 32, 766},
                          {"mla scores, heads stacked", 64, 766, 32},
                          {"mla latents, heads stacked", 64, 32, 766}};
  std::printf("| product | M N K | us, B [K, N] | us, B [N, K] (transposed) | GFLOP/s (B [K, N] / "
              "[N, K]) |\n|---|---|---|---|---|\n");
  for (const Shape& s : shapes) {
    const double nn = microseconds(s, false), nt = microseconds(s, true);
    const double flop = 2.0 * s.M * s.N * s.K;
    std::printf("| %s | %d %d %d | %.2f | %.2f | %.0f / %.0f |\n", s.what, s.M, s.N, s.K, nn, nt,
                flop / nn / 1e3, flop / nt / 1e3);
  }
}
