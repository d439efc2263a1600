#include "broadcast.h"

namespace ag {

Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op) {
  size_t n = std::max(a.size(), b.size());
  Shape out(n);
  for (size_t i = 0; i < n; ++i) {
    int64_t da = i < n - a.size() ? 1 : a[i - (n - a.size())];
    int64_t db = i < n - b.size() ? 1 : b[i - (n - b.size())];
    AG_CHECK(da == db || da == 1 || db == 1, op, ": shapes ", shape_str(a), " and ",
             shape_str(b), " cannot be broadcast together");
    out[i] = da == 1 ? db : da;
  }
  return out;
}

namespace {
// Element strides of `s` right-aligned to `out`, 0 where s broadcasts.
std::vector<int64_t> aligned_strides(const Shape& s, const Shape& out) {
  std::vector<int64_t> st(out.size(), 0);
  int64_t stride = 1;
  for (size_t k = 0; k < s.size(); ++k) {
    size_t i = s.size() - 1 - k, o = out.size() - 1 - k;
    st[o] = s[i] == 1 ? 0 : stride;
    stride *= s[i];
  }
  return st;
}
}  // namespace

kernels::BroadcastPlan make_broadcast_plan(const Shape& a, const Shape& b, const Shape& out) {
  std::vector<int64_t> sa = aligned_strides(a, out), sb = aligned_strides(b, out);
  kernels::BroadcastPlan p;
  p.numel = numel_of(out);
  p.ndim = 0;
  for (size_t i = 0; i < out.size(); ++i) {
    if (out[i] == 1) continue;  // size-1 dims contribute nothing
    int k = p.ndim - 1;
    // Merge into the previous dim when both operands continue contiguously across it.
    if (k >= 0 && p.stride_a[k] == sa[i] * out[i] && p.stride_b[k] == sb[i] * out[i]) {
      p.shape[k] *= out[i];
      p.stride_a[k] = sa[i];
      p.stride_b[k] = sb[i];
      continue;
    }
    AG_CHECK(p.ndim < kernels::kMaxDims, "broadcast: more than ", kernels::kMaxDims,
             " dims after merging: ", shape_str(out));
    p.shape[p.ndim] = out[i];
    p.stride_a[p.ndim] = sa[i];
    p.stride_b[p.ndim] = sb[i];
    ++p.ndim;
  }
  if (p.ndim == 0) {  // a scalar-shaped result
    p.ndim = 1;
    p.shape[0] = 1;
    p.stride_a[0] = p.stride_b[0] = 1;
  }
  return p;
}

}  // namespace ag
