// Row reductions that GCC vectorizes: `omp simd` lets it keep one partial result per
// vector lane (reassociating the float adds), which plain loops do not allow.
#pragma once
#include <cmath>
#include <cstdint>

namespace ag::cpu {

// sum over k in [0, n) of f(k); f may also store.
template <class F>
inline float simd_sum(int64_t n, F f) {
  float s = 0;
#pragma omp simd reduction(+ : s)
  for (int64_t k = 0; k < n; ++k) s += f(k);
  return s;
}

// max of r[0, n); -inf when n == 0. NaNs may be skipped.
inline float simd_max(const float* r, int64_t n) {
  float m = -INFINITY;
#pragma omp simd reduction(max : m)
  for (int64_t k = 0; k < n; ++k) m = r[k] > m ? r[k] : m;  // std::max stays scalar
  return m;
}

}  // namespace ag::cpu
