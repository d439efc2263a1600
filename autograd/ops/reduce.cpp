#include "reduce.h"

#include <algorithm>

#include "../autograd.h"
#include "../copy.h"
#include "../kernels/reduce.h"
#include "binary.h"
#include "elementwise_impl.h"
#include "shape.h"

namespace ag {
namespace {

// Sorted, unique, wrapped dims; all dims when `dims` is empty.
std::vector<int64_t> normalize_dims(std::vector<int64_t> dims, int64_t ndim, const char* op) {
  if (dims.empty())
    for (int64_t d = 0; d < ndim; ++d) dims.push_back(d);
  for (int64_t& d : dims) d = wrap_dim(d, ndim, op);
  std::sort(dims.begin(), dims.end());
  AG_CHECK(std::adjacent_find(dims.begin(), dims.end()) == dims.end(), op,
           ": a dim is repeated");
  return dims;
}

Shape reduced_shape(const Shape& s, const std::vector<int64_t>& dims, bool keepdim) {
  Shape out;
  for (int64_t d = 0; d < static_cast<int64_t>(s.size()); ++d) {
    bool reduced = std::binary_search(dims.begin(), dims.end(), d);
    if (!reduced) out.push_back(s[d]);
    else if (keepdim) out.push_back(1);
  }
  return out;
}

// Splits shape at [d0, d1) into outer * n * inner.
void outer_n_inner(const Shape& s, int64_t d0, int64_t d1, int64_t& outer, int64_t& n,
                   int64_t& inner) {
  outer = n = inner = 1;
  for (int64_t d = 0; d < static_cast<int64_t>(s.size()); ++d)
    (d < d0 ? outer : d < d1 ? n : inner) *= s[d];
}

// Sum over `dims` (sorted), kept as size-1 dims; no autograd.
Tensor sum_keepdim_raw(const Tensor& x, const std::vector<int64_t>& dims) {
  Tensor cur = x;
  // Runs of consecutive dims reduce in one pass each, from the last run backwards.
  for (size_t end = dims.size(); end > 0;) {
    size_t begin = end - 1;
    while (begin > 0 && dims[begin - 1] == dims[begin] - 1) --begin;
    int64_t d0 = dims[begin], d1 = dims[end - 1] + 1, outer, n, inner;
    outer_n_inner(cur.shape(), d0, d1, outer, n, inner);
    Shape s = cur.shape();
    for (int64_t d = d0; d < d1; ++d) s[d] = 1;
    Tensor out = empty(s, DType::f32, x.device());
    kernels::sum[x.device()](cur.data(), out.data(), outer, n, inner);
    cur = out;
    end = begin;
  }
  return cur.same(x) ? clone_data(x) : cur;
}

}  // namespace

Tensor sum(const Tensor& x, std::vector<int64_t> dims, bool keepdim) {
  detail::check_float(x, "sum");
  dims = normalize_dims(std::move(dims), x.dim(), "sum");
  Tensor y = sum_keepdim_raw(x, dims);
  Shape keep = y.shape();
  y.impl().shape = reduced_shape(x.shape(), dims, keepdim);
  return attach(y, "sum", {x}, {}, [keep, xs = x.shape()](const Tensor& g, const Needs&) {
    return std::vector<Tensor>{broadcast_to(reshape(g, keep), xs)};
  });
}

Tensor mean(const Tensor& x, std::vector<int64_t> dims, bool keepdim) {
  dims = normalize_dims(std::move(dims), x.dim(), "mean");
  int64_t count = 1;
  for (int64_t d : dims) count *= x.shape()[d];
  AG_CHECK(count > 0, "mean: no elements to average in shape ", shape_str(x.shape()));
  return mul(sum(x, dims, keepdim), 1.0f / static_cast<float>(count));
}

Tensor var(const Tensor& x, std::vector<int64_t> dims, bool unbiased, bool keepdim) {
  dims = normalize_dims(std::move(dims), x.dim(), "var");
  int64_t count = 1;
  for (int64_t d : dims) count *= x.shape()[d];
  int64_t denom = count - (unbiased ? 1 : 0);
  AG_CHECK(denom > 0, "var: ", count, " elements are too few for ",
           unbiased ? "an unbiased" : "a", " variance");
  Tensor centered = sub(x, mean(x, dims, true));
  return mul(sum(mul(centered, centered), dims, keepdim), 1.0f / static_cast<float>(denom));
}

namespace {
// values and int64 indices of the max along dim, keepdim shape.
std::pair<Tensor, Tensor> max_raw(const Tensor& x, int64_t dim) {
  AG_CHECK(x.size(dim) > 0, "max: dim ", dim, " of shape ", shape_str(x.shape()), " is empty");
  int64_t outer, n, inner;
  outer_n_inner(x.shape(), dim, dim + 1, outer, n, inner);
  Shape s = x.shape();
  s[dim] = 1;
  Tensor values = empty(s, DType::f32, x.device());
  Tensor idx = empty(s, DType::i64, x.device());
  kernels::max[x.device()](x.data(), values.data(), idx.data_as<int64_t>(), outer, n, inner);
  return {values, idx};
}
}  // namespace

Tensor max(const Tensor& x, int64_t dim, bool keepdim) {
  detail::check_float(x, "max");
  dim = wrap_dim(dim, x.dim(), "max");
  // Named, not a structured binding: the lambda below captures idx (clang 14 cannot capture one).
  std::pair<Tensor, Tensor> raw = max_raw(x, dim);
  Tensor values = raw.first, idx = raw.second;
  if (!keepdim) values.impl().shape = reduced_shape(x.shape(), {dim}, false);
  return attach(values, "max", {x}, {},
                [idx, dim, xs = x.shape()](const Tensor& g, const Needs&) {
                  int64_t outer, n, inner;
                  outer_n_inner(xs, dim, dim + 1, outer, n, inner);
                  Tensor gx = empty(xs, DType::f32, g.device());
                  kernels::max_backward[g.device()](g.data(), idx.data_as<int64_t>(), gx.data(),
                                                    outer, n, inner);
                  return std::vector<Tensor>{gx};
                });
}

Tensor max(const Tensor& x) { return max(reshape(x, {x.numel()}), 0, false); }

Tensor argmax(const Tensor& x, int64_t dim, bool keepdim) {
  detail::check_float(x, "argmax");
  dim = wrap_dim(dim, x.dim(), "argmax");
  Tensor idx = max_raw(x, dim).second;
  if (!keepdim) idx.impl().shape = reduced_shape(x.shape(), {dim}, false);
  return idx;
}

Tensor sum_to(const Tensor& g, const Shape& shape) {
  if (g.shape() == shape) return g;
  AG_CHECK(shape.size() <= g.shape().size(), "sum_to: cannot reduce ", shape_str(g.shape()),
           " to ", shape_str(shape));
  size_t lead = g.shape().size() - shape.size();
  std::vector<int64_t> dims;
  for (size_t d = 0; d < g.shape().size(); ++d)
    if (d < lead || (shape[d - lead] == 1 && g.shape()[d] != 1)) dims.push_back(d);
  return reshape(sum(g, dims, true), shape);
}

}  // namespace ag
