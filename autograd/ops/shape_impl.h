// Shared by the shape and index ops: dims, strides and strided plans.
#pragma once
#include <array>

#include "../kernels/shape.h"
#include "../tensor.h"

namespace ag {

using Strides = std::vector<int64_t>;

// Element strides of a contiguous tensor of `shape`.
inline Strides contiguous_strides(const Shape& shape) {
  Strides s(shape.size());
  int64_t stride = 1;
  for (size_t k = shape.size(); k-- > 0;) {
    s[k] = stride;
    stride *= shape[k];
  }
  return s;
}

// Strides of `s` right-aligned to `out` (a shape it broadcasts to), 0 where s broadcasts.
inline Strides broadcast_strides(const Shape& s, const Shape& out) {
  Strides st(out.size(), 0);
  Strides own = contiguous_strides(s);
  for (size_t k = 0; k < s.size(); ++k) {
    size_t i = s.size() - 1 - k, o = out.size() - 1 - k;
    st[o] = s[i] == 1 ? 0 : own[i];
  }
  return st;
}

// `dim` of x wrapped (negative counts from the end); x must have a dim.
inline int64_t dim_of(const Tensor& x, int64_t dim, const char* op) {
  AG_CHECK(x.dim() > 0, op, ": a 0-d tensor has no dim ", dim);
  return wrap_dim(dim, x.dim(), op);
}

// The index space `shape` with the operands' strides over it, size-1 dims dropped and
// adjacent dims merged where every operand continues contiguously across them.
template <int N>
kernels::StridedPlan<N> make_strided_plan(const Shape& shape, const std::array<Strides, N>& st,
                                          const char* op) {
  kernels::StridedPlan<N> p;
  p.numel = numel_of(shape);
  for (size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] == 1) continue;
    int k = p.ndim - 1;
    bool merge = k >= 0;
    for (int n = 0; n < N && merge; ++n) merge = p.stride[n][k] == st[n][d] * shape[d];
    if (merge) {
      p.shape[k] *= shape[d];
      for (int n = 0; n < N; ++n) p.stride[n][k] = st[n][d];
      continue;
    }
    AG_CHECK(p.ndim < kernels::kMaxDims, op, ": more than ", kernels::kMaxDims,
             " dims after merging: ", shape_str(shape));
    p.shape[p.ndim] = shape[d];
    for (int n = 0; n < N; ++n) p.stride[n][p.ndim] = st[n][d];
    ++p.ndim;
  }
  if (p.ndim == 0) {  // one element
    p.ndim = 1;
    p.shape[0] = 1;
    for (int n = 0; n < N; ++n) p.stride[n][0] = 1;
  }
  return p;
}

}  // namespace ag
