// CPU indexing and mask kernels. Index kernels split work over rows and, when the rows
// are fewer than the threads, over column ranges too: a thread owns whole columns of a
// row, so the accumulating backward kernels never race on repeated indices.
#include <algorithm>

#include "../kernels/index.h"
#include "parallel.h"

namespace ag::cpu {
namespace {
using kernels::StridedPlan;

constexpr int64_t kGrain = 1 << 15;  // elements per thread below which we stay serial

// fn(o, i0, i1) over rows o of [outer, inner] split into column ranges [i0, i1);
// `per_column` is the work per column of one row.
template <class Fn>
void for_row_ranges(int64_t outer, int64_t inner, int64_t per_column, const Fn& fn) {
  if (outer == 0 || inner == 0) return;
  const int64_t threads = omp_in_parallel() ? 1 : omp_get_max_threads();
  int64_t parts = outer >= threads ? 1 : (threads + outer - 1) / outer;
  parts = std::max<int64_t>(1, std::min(parts, inner / 16));  // columns at least 16 wide
  const int64_t work = std::max<int64_t>(1, per_column * inner / parts);
  parallel_for(outer * parts, std::max<int64_t>(1, kGrain / work), [&](int64_t b, int64_t e) {
    for (int64_t t = b; t < e; ++t) {
      const int64_t o = t / parts, c = t % parts;
      fn(o, inner * c / parts, inner * (c + 1) / parts);
    }
  });
}

bool index_in_range(const int64_t* idx, int64_t n, int64_t size, int64_t* first_bad) {
  for (int64_t i = 0; i < n; ++i) {
    if (idx[i] < 0 || idx[i] >= size) {
      *first_bad = idx[i];
      return false;
    }
  }
  return true;
}

void index_select(const float* x, const int64_t* idx, float* y, int64_t outer, int64_t n,
                  int64_t m, int64_t inner) {
  for_row_ranges(outer, inner, m, [&](int64_t o, int64_t i0, int64_t i1) {
    for (int64_t j = 0; j < m; ++j) {
      const float* s = x + (o * n + idx[j]) * inner;
      float* d = y + (o * m + j) * inner;
      std::copy(s + i0, s + i1, d + i0);
    }
  });
}

void index_add(const float* gy, const int64_t* idx, float* gx, int64_t outer, int64_t n,
               int64_t m, int64_t inner) {
  for_row_ranges(outer, inner, m, [&](int64_t o, int64_t i0, int64_t i1) {
    for (int64_t j = 0; j < m; ++j) {
      const float* s = gy + (o * m + j) * inner;
      float* d = gx + (o * n + idx[j]) * inner;
      for (int64_t i = i0; i < i1; ++i) d[i] += s[i];
    }
  });
}

void gather(const float* x, const int64_t* idx, float* y, int64_t outer, int64_t n, int64_t m,
            int64_t inner) {
  for_row_ranges(outer, inner, m, [&](int64_t o, int64_t i0, int64_t i1) {
    const float* xo = x + o * n * inner;
    for (int64_t j = 0; j < m; ++j) {
      const int64_t* k = idx + (o * m + j) * inner;
      float* d = y + (o * m + j) * inner;
      for (int64_t i = i0; i < i1; ++i) d[i] = xo[k[i] * inner + i];
    }
  });
}

void scatter_add(const float* gy, const int64_t* idx, float* gx, int64_t outer, int64_t n,
                 int64_t m, int64_t inner) {
  for_row_ranges(outer, inner, m, [&](int64_t o, int64_t i0, int64_t i1) {
    float* go = gx + o * n * inner;
    for (int64_t j = 0; j < m; ++j) {
      const int64_t* k = idx + (o * m + j) * inner;
      const float* s = gy + (o * m + j) * inner;
      for (int64_t i = i0; i < i1; ++i) go[k[i] * inner + i] += s[i];
    }
  });
}

// fn(off, o, n) for each row of the plan's last dim: off[k] is operand k's element offset
// of the row's first element, o the contiguous output's, n the row length.
template <int N, class Fn>
void for_rows(const StridedPlan<N>& p, const Fn& fn) {
  const int last = p.ndim - 1;
  const int64_t inner = p.shape[last], rows = p.numel / inner;
  parallel_for(rows, std::max<int64_t>(1, kGrain / inner), [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; ++r) {
      int64_t off[N] = {}, rem = r;
      for (int d = last - 1; d >= 0; --d) {
        const int64_t i = rem % p.shape[d];
        rem /= p.shape[d];
        for (int k = 0; k < N; ++k) off[k] += i * p.stride[k][d];
      }
      fn(off, r * inner, inner);
    }
  });
}

void masked_fill(const float* x, const uint8_t* mask, float* y, float value,
                 const StridedPlan<2>& p) {
  if (p.numel == 0) return;
  const int64_t sx = p.stride[0][p.ndim - 1], sm = p.stride[1][p.ndim - 1];
  for_rows(p, [&](const int64_t* off, int64_t o, int64_t n) {
    const float* xr = x + off[0];
    const uint8_t* mr = mask + off[1];
    float* yr = y + o;
    if (sm == 0 && mr[0]) {
      std::fill(yr, yr + n, value);
    } else if (sm == 0) {
      for (int64_t i = 0; i < n; ++i) yr[i] = xr[i * sx];
    } else {
      for (int64_t i = 0; i < n; ++i) yr[i] = mr[i * sm] ? value : xr[i * sx];
    }
  });
}

void where(const uint8_t* cond, const float* a, const float* b, float* out,
           const StridedPlan<3>& p) {
  if (p.numel == 0) return;
  const int last = p.ndim - 1;
  const int64_t sc = p.stride[0][last], sa = p.stride[1][last], sb = p.stride[2][last];
  for_rows(p, [&](const int64_t* off, int64_t o, int64_t n) {
    const uint8_t* cr = cond + off[0];
    const float* ar = a + off[1];
    const float* br = b + off[2];
    float* yr = out + o;
    for (int64_t i = 0; i < n; ++i) yr[i] = cr[i * sc] ? ar[i * sa] : br[i * sb];
  });
}

void logical_not(const uint8_t* x, uint8_t* y, int64_t n) {
  parallel_for(n, kGrain * 4, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) y[i] = x[i] ? 0 : 1;
  });
}

}  // namespace
}  // namespace ag::cpu

namespace ag::kernels {
KernelTable<IndexInRangeFn> index_in_range{"index_in_range", {&cpu::index_in_range, nullptr}};
KernelTable<IndexSelectFn> index_select{"index_select", {&cpu::index_select, nullptr}};
KernelTable<IndexAddFn> index_add{"index_add", {&cpu::index_add, nullptr}};
KernelTable<GatherFn> gather{"gather", {&cpu::gather, nullptr}};
KernelTable<ScatterAddFn> scatter_add{"scatter_add", {&cpu::scatter_add, nullptr}};
KernelTable<MaskedFillFn> masked_fill{"masked_fill", {&cpu::masked_fill, nullptr}};
KernelTable<WhereFn> where{"where", {&cpu::where, nullptr}};
KernelTable<LogicalNotFn> logical_not{"logical_not", {&cpu::logical_not, nullptr}};
}  // namespace ag::kernels
