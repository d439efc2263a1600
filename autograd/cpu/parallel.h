// OpenMP helpers for CPU kernels: split [0, n) into contiguous ranges, one per thread,
// only when there is enough work to pay for the threads.
#pragma once
#include <omp.h>

#include <algorithm>
#include <cstdint>

namespace ag::cpu {

// fn(begin, end) over [0, n); runs serially when n < grain or inside a parallel region.
template <class Fn>
void parallel_for(int64_t n, int64_t grain, const Fn& fn) {
  if (n <= 0) return;
  int threads = omp_in_parallel() ? 1 : omp_get_max_threads();
  int64_t chunks = std::min<int64_t>(threads, std::max<int64_t>(1, n / std::max<int64_t>(grain, 1)));
  if (chunks <= 1) {
    fn(int64_t{0}, n);
    return;
  }
#pragma omp parallel for num_threads(chunks) schedule(static)
  for (int64_t c = 0; c < chunks; ++c) {
    int64_t b = n * c / chunks, e = n * (c + 1) / chunks;
    fn(b, e);
  }
}

}  // namespace ag::cpu
