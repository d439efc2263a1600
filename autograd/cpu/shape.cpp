// CPU strided copy. Contiguous inner runs are copied as blocks; a copy whose source is
// contiguous along a different dim than the destination (a transpose of the last dim) goes
// through square tiles so both sides stay in cache.
#include <algorithm>

#include "../kernels/shape.h"
#include "parallel.h"

namespace ag::cpu {
namespace {
using kernels::CopyPlan;

constexpr int64_t kGrain = 1 << 15;  // elements per thread below which we stay serial
constexpr int64_t kTile = 32;

// One run of n elements with source / destination strides ss, ds.
inline void copy_run(const float* s, float* d, int64_t n, int64_t ss, int64_t ds) {
  if (ss == 1 && ds == 1) {
    std::copy_n(s, n, d);
  } else if (ds == 1) {
    for (int64_t i = 0; i < n; ++i) d[i] = s[i * ss];
  } else {
    for (int64_t i = 0; i < n; ++i) d[i * ds] = s[i * ss];
  }
}

// Source and destination offsets of outer index r over dims [0, last), skipping dim `skip`.
inline void offsets(const CopyPlan& p, int last, int skip, int64_t r, int64_t& so,
                    int64_t& dof) {
  so = dof = 0;
  for (int d = last - 1; d >= 0; --d) {
    if (d == skip) continue;
    int64_t i = r % p.shape[d];
    r /= p.shape[d];
    so += i * p.stride[0][d];
    dof += i * p.stride[1][d];
  }
}

// Rows along the last dim, split over threads by rows (or within the row when only one).
void copy_rows(const float* src, float* dst, const CopyPlan& p) {
  const int last = p.ndim - 1;
  const int64_t inner = p.shape[last], rows = p.numel / inner;
  const int64_t ss = p.stride[0][last], ds = p.stride[1][last];
  if (rows == 1) {
    parallel_for(inner, kGrain, [&](int64_t b, int64_t e) {
      copy_run(src + b * ss, dst + b * ds, e - b, ss, ds);
    });
    return;
  }
  parallel_for(rows, std::max<int64_t>(1, kGrain / inner), [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; ++r) {
      int64_t so, dof;
      offsets(p, last, -1, r, so, dof);
      copy_run(src + so, dst + dof, inner, ss, ds);
    }
  });
}

// The dim (not the last) along which the source is contiguous, when the destination is
// contiguous along the last dim but the source is not and both dims are long enough to tile.
int transposed_dim(const CopyPlan& p) {
  const int last = p.ndim - 1;
  if (p.stride[1][last] != 1 || p.stride[0][last] == 1 || p.shape[last] < 8) return -1;
  for (int d = 0; d < last; ++d)
    if (p.stride[0][d] == 1 && p.shape[d] >= 8) return d;
  return -1;
}

// dst[.., i, .., j] = src[.., i, .., j] over kTile x kTile tiles of the (k, last) plane,
// source contiguous in i, destination in j.
void copy_tiles(const float* src, float* dst, const CopyPlan& p, int k) {
  const int last = p.ndim - 1;
  const int64_t ni = p.shape[k], nj = p.shape[last];
  const int64_t sj = p.stride[0][last], di = p.stride[1][k];
  const int64_t bi = (ni + kTile - 1) / kTile, bj = (nj + kTile - 1) / kTile;
  const int64_t tasks = p.numel / (ni * nj) * bi * bj;
  parallel_for(tasks, std::max<int64_t>(1, kGrain / (kTile * kTile)), [&](int64_t b, int64_t e) {
    for (int64_t t = b; t < e; ++t) {
      int64_t so, dof;
      offsets(p, last, k, t / (bi * bj), so, dof);
      const int64_t i0 = t / bj % bi * kTile, j0 = t % bj * kTile;
      const int64_t i1 = std::min(ni, i0 + kTile), j1 = std::min(nj, j0 + kTile);
      for (int64_t i = i0; i < i1; ++i) {
        const float* s = src + so + i;
        float* d = dst + dof + i * di;
        for (int64_t j = j0; j < j1; ++j) d[j] = s[j * sj];
      }
    }
  });
}

void strided_copy(const float* src, float* dst, const CopyPlan& p) {
  if (p.numel == 0) return;
  int k = transposed_dim(p);
  if (k >= 0) return copy_tiles(src, dst, p, k);
  copy_rows(src, dst, p);
}

}  // namespace
}  // namespace ag::cpu

namespace ag::kernels {
KernelTable<StridedCopyFn> strided_copy{"strided_copy", {&cpu::strided_copy, nullptr}};
}  // namespace ag::kernels
