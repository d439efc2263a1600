#include "shape.h"

#include <algorithm>

#include "../autograd.h"
#include "binary.h"
#include "elementwise_impl.h"
#include "shape_impl.h"
#include "unary.h"

namespace ag {

Tensor reshape(const Tensor& x, const Shape& shape) {
  Shape s = shape;
  int64_t known = 1, infer = -1;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == -1) {
      AG_CHECK(infer < 0, "reshape: more than one -1 in ", shape_str(shape));
      infer = static_cast<int64_t>(i);
    } else {
      AG_CHECK(s[i] >= 0, "reshape: invalid size in ", shape_str(shape));
      known *= s[i];
    }
  }
  if (infer >= 0) {
    AG_CHECK(known > 0 && x.numel() % known == 0, "reshape: ", shape_str(x.shape()),
             " cannot be viewed as ", shape_str(shape));
    s[infer] = x.numel() / known;
  }
  AG_CHECK(numel_of(s) == x.numel(), "reshape: ", shape_str(x.shape()), " (", x.numel(),
           " elements) cannot be viewed as ", shape_str(shape));
  if (s == x.shape()) return x;
  Tensor y = x.detach();
  y.impl().shape = s;
  return attach(y, "reshape", {x}, {}, [xs = x.shape()](const Tensor& g, const Needs&) {
    return std::vector<Tensor>{reshape(g, xs)};
  });
}

Tensor flatten(const Tensor& x, int64_t start_dim, int64_t end_dim) {
  if (x.dim() == 0) return reshape(x, {1});
  int64_t a = wrap_dim(start_dim, x.dim(), "flatten"), b = wrap_dim(end_dim, x.dim(), "flatten");
  AG_CHECK(a <= b, "flatten: start_dim ", start_dim, " after end_dim ", end_dim);
  Shape s(x.shape().begin(), x.shape().begin() + a);
  int64_t n = 1;
  for (int64_t d = a; d <= b; ++d) n *= x.shape()[d];
  s.push_back(n);
  s.insert(s.end(), x.shape().begin() + b + 1, x.shape().end());
  return reshape(x, s);
}

Tensor unsqueeze(const Tensor& x, int64_t dim) {
  int64_t d = wrap_dim(dim, x.dim() + 1, "unsqueeze");
  Shape s = x.shape();
  s.insert(s.begin() + d, 1);
  return reshape(x, s);
}

Tensor squeeze(const Tensor& x, int64_t dim) {
  int64_t d = wrap_dim(dim, x.dim(), "squeeze");
  AG_CHECK(x.shape()[d] == 1, "squeeze: dim ", dim, " of ", shape_str(x.shape()),
           " has size ", x.shape()[d], ", not 1");
  Shape s = x.shape();
  s.erase(s.begin() + d);
  return reshape(x, s);
}

namespace {

// Where a box of elements lies in a contiguous tensor: its first element and per-dim strides.
struct Window {
  int64_t offset = 0;
  Strides strides;
};

Window dense(const Shape& shape) { return {0, contiguous_strides(shape)}; }

// The box starting at index `start` and stepping by `step` along each dim of `shape`.
Window window(const Shape& shape, const Shape& start, const Shape& step) {
  Window w = dense(shape);
  for (size_t d = 0; d < shape.size(); ++d) {
    w.offset += start[d] * w.strides[d];
    w.strides[d] *= step[d];
  }
  return w;
}

// Copies an `extent`-shaped box from src's window into dst's window; no autograd.
void copy_window(const Tensor& src, const Window& s, const Tensor& dst, const Window& d,
                 const Shape& extent, const char* op) {
  if (numel_of(extent) == 0) return;
  kernels::CopyPlan plan = make_strided_plan<2>(extent, {s.strides, d.strides}, op);
  kernels::strided_copy[src.device()](src.data() + s.offset, dst.data() + d.offset, plan);
}

// x's elements start, start + step, ... (count of them) along dim.
Tensor take_along(const Tensor& x, int64_t dim, int64_t start, int64_t count, int64_t step,
                  const char* op) {
  Shape begin(x.dim(), 0), steps(x.dim(), 1), extent = x.shape();
  begin[dim] = start;
  steps[dim] = step;
  extent[dim] = count;
  Window w = window(x.shape(), begin, steps);
  Tensor y = empty(extent, DType::f32, x.device());
  copy_window(x, w, y, dense(extent), extent, op);
  return attach(y, op, {x}, {}, [w, extent, xs = x.shape(), op](const Tensor& g, const Needs&) {
    Tensor gx = zeros(xs, DType::f32, g.device());
    copy_window(g, dense(extent), gx, w, extent, op);
    return std::vector<Tensor>{gx};
  });
}

}  // namespace

Tensor permute(const Tensor& x, const std::vector<int64_t>& dims) {
  detail::check_float(x, "permute");
  const int64_t nd = x.dim();
  AG_CHECK(static_cast<int64_t>(dims.size()) == nd, "permute: ", dims.size(),
           " dims given for ", shape_str(x.shape()));
  // out dim i is x's dim `d`; inverse[d] = i.
  Shape out(nd);
  Strides from(nd), xs = contiguous_strides(x.shape());
  std::vector<int64_t> inverse(nd, -1);
  bool identity = true;
  for (int64_t i = 0; i < nd; ++i) {
    const int64_t d = wrap_dim(dims[i], nd, "permute");
    AG_CHECK(inverse[d] < 0, "permute: dims ", shape_str(dims), " repeat dim ", d, " of ",
             shape_str(x.shape()));
    inverse[d] = i;
    out[i] = x.shape()[d];
    from[i] = xs[d];
    identity &= d == i;
  }
  if (identity) return x;
  Tensor y = empty(out, DType::f32, x.device());
  copy_window(x, {0, from}, y, dense(out), out, "permute");
  return attach(y, "permute", {x}, {}, [inverse](const Tensor& g, const Needs&) {
    return std::vector<Tensor>{permute(g, inverse)};
  });
}

Tensor transpose(const Tensor& x, int64_t d0, int64_t d1) {
  detail::check_float(x, "transpose");
  const int64_t nd = x.dim();
  d0 = wrap_dim(d0, nd, "transpose");
  d1 = wrap_dim(d1, nd, "transpose");
  std::vector<int64_t> dims(nd);
  for (int64_t i = 0; i < nd; ++i) dims[i] = i;
  if (nd > 0) std::swap(dims[d0], dims[d1]);
  return permute(x, dims);
}

Tensor narrow(const Tensor& x, int64_t dim, int64_t start, int64_t length) {
  detail::check_float(x, "narrow");
  dim = dim_of(x, dim, "narrow");
  const int64_t n = x.shape()[dim];
  const int64_t begin = start < 0 ? start + n : start;
  AG_CHECK(begin >= 0, "narrow: start ", start, " out of range for size ", n, " of dim ", dim,
           " of ", shape_str(x.shape()));
  AG_CHECK(length >= 0, "narrow: negative length ", length, " for ", shape_str(x.shape()));
  AG_CHECK(begin + length <= n, "narrow: start ", begin, " + length ", length,
           " exceeds size ", n, " of dim ", dim, " of ", shape_str(x.shape()));
  return take_along(x, dim, begin, length, 1, "narrow");
}

Tensor slice(const Tensor& x, int64_t dim, int64_t start, int64_t end, int64_t step) {
  detail::check_float(x, "slice");
  dim = dim_of(x, dim, "slice");
  AG_CHECK(step > 0, "slice: step must be positive, got ", step, " for ",
           shape_str(x.shape()));
  const int64_t n = x.shape()[dim];
  auto clamp_index = [n](int64_t i) { return std::clamp<int64_t>(i < 0 ? i + n : i, 0, n); };
  const int64_t b = clamp_index(start), e = clamp_index(end);
  const int64_t count = e > b ? (e - b + step - 1) / step : 0;
  return take_along(x, dim, b, count, step, "slice");
}

Tensor concat(const std::vector<Tensor>& xs, int64_t dim) {
  AG_CHECK(!xs.empty(), "concat: no tensors");
  const Tensor& first = xs[0];
  for (const Tensor& x : xs) detail::check_float(x, "concat");
  dim = dim_of(first, dim, "concat");
  Shape out = first.shape();
  out[dim] = 0;
  for (const Tensor& x : xs) {
    AG_CHECK(x.device() == first.device(), "concat: tensors on ", device_name(first.device()),
             " and ", device_name(x.device()));
    AG_CHECK(x.dim() == first.dim(), "concat: ", shape_str(first.shape()), " and ",
             shape_str(x.shape()), " differ in number of dims");
    for (int64_t d = 0; d < x.dim(); ++d)
      AG_CHECK(d == dim || x.shape()[d] == first.shape()[d], "concat: ",
               shape_str(first.shape()), " and ", shape_str(x.shape()), " differ outside dim ",
               dim);
    out[dim] += x.shape()[dim];
  }
  Tensor y = empty(out, DType::f32, first.device());
  std::vector<int64_t> offsets, sizes;
  Shape begin(out.size(), 0), step(out.size(), 1);
  for (const Tensor& x : xs) {
    offsets.push_back(begin[dim]);
    sizes.push_back(x.shape()[dim]);
    copy_window(x, dense(x.shape()), y, window(out, begin, step), x.shape(), "concat");
    begin[dim] += x.shape()[dim];
  }
  return attach(y, "concat", xs, {}, [dim, offsets, sizes](const Tensor& g, const Needs& n) {
    std::vector<Tensor> gs(offsets.size());
    for (size_t i = 0; i < gs.size(); ++i)
      if (n[i]) gs[i] = narrow(g, dim, offsets[i], sizes[i]);
    return gs;
  });
}

Tensor stack(const std::vector<Tensor>& xs, int64_t dim) {
  AG_CHECK(!xs.empty(), "stack: no tensors");
  dim = wrap_dim(dim, xs[0].dim() + 1, "stack");
  std::vector<Tensor> parts;
  for (const Tensor& x : xs) {
    detail::check_float(x, "stack");
    AG_CHECK(x.shape() == xs[0].shape(), "stack: ", shape_str(xs[0].shape()), " and ",
             shape_str(x.shape()), " differ");
    parts.push_back(unsqueeze(x, dim));
  }
  return concat(parts, dim);
}

std::vector<Tensor> split(const Tensor& x, const std::vector<int64_t>& sizes, int64_t dim) {
  detail::check_float(x, "split");
  dim = dim_of(x, dim, "split");
  int64_t total = 0;
  for (int64_t s : sizes) {
    AG_CHECK(s >= 0, "split: negative size in ", shape_str(sizes));
    total += s;
  }
  AG_CHECK(total == x.shape()[dim], "split: sizes ", shape_str(sizes), " sum to ", total,
           ", not size ", x.shape()[dim], " of dim ", dim, " of ", shape_str(x.shape()));
  std::vector<Tensor> pieces;
  int64_t start = 0;
  for (int64_t s : sizes) {
    pieces.push_back(narrow(x, dim, start, s));
    start += s;
  }
  return pieces;
}

std::vector<Tensor> chunk(const Tensor& x, int64_t chunks, int64_t dim) {
  AG_CHECK(chunks > 0, "chunk: chunks must be positive, got ", chunks);
  dim = dim_of(x, dim, "chunk");
  const int64_t n = x.shape()[dim];
  if (n == 0) return split(x, std::vector<int64_t>(chunks, 0), dim);
  const int64_t each = (n + chunks - 1) / chunks;
  std::vector<int64_t> sizes;
  for (int64_t start = 0; start < n; start += each) sizes.push_back(std::min(each, n - start));
  return split(x, sizes, dim);
}

Tensor pad(const Tensor& x, const std::vector<int64_t>& pads, float value) {
  detail::check_float(x, "pad");
  const int64_t nd = x.dim();
  AG_CHECK(pads.size() % 2 == 0 && static_cast<int64_t>(pads.size()) <= 2 * nd, "pad: ",
           pads.size(), " pad values for ", shape_str(x.shape()),
           "; need (left, right) pairs for at most ", nd, " dims");
  // x's kept box starts at `from` in x and at `to` in the output.
  Shape out = x.shape(), extent = x.shape(), from(nd, 0), to(nd, 0), step(nd, 1);
  for (size_t k = 0; k < pads.size() / 2; ++k) {
    const int64_t d = nd - 1 - static_cast<int64_t>(k), l = pads[2 * k], r = pads[2 * k + 1];
    out[d] = x.shape()[d] + l + r;
    AG_CHECK(out[d] >= 0, "pad: ", shape_str(x.shape()), " padded by ", shape_str(pads),
             " gives size ", out[d], " in dim ", d);
    from[d] = std::max<int64_t>(0, -l);
    to[d] = std::max<int64_t>(0, l);
    extent[d] = std::max<int64_t>(0, x.shape()[d] - from[d] - std::max<int64_t>(0, -r));
  }
  Tensor y = full(out, value, x.device());
  Window src = window(x.shape(), from, step), dst = window(out, to, step);
  copy_window(x, src, y, dst, extent, "pad");
  return attach(y, "pad", {x}, {},
                [src, dst, extent, xs = x.shape()](const Tensor& g, const Needs&) {
    Tensor gx = zeros(xs, DType::f32, g.device());
    copy_window(g, dst, gx, src, extent, "pad");
    return std::vector<Tensor>{gx};
  });
}

Tensor glu(const Tensor& x, int64_t dim) {
  detail::check_float(x, "glu");
  dim = dim_of(x, dim, "glu");
  const int64_t n = x.shape()[dim];
  AG_CHECK(n % 2 == 0, "glu: size ", n, " of dim ", dim, " of ", shape_str(x.shape()),
           " is odd");
  std::vector<Tensor> halves = split(x, {n / 2, n / 2}, dim);
  return mul(halves[0], sigmoid(halves[1]));
}

}  // namespace ag
