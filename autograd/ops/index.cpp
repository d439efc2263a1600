#include "index.h"

#include "../autograd.h"
#include "../copy.h"
#include "../kernels/index.h"
#include "broadcast.h"
#include "elementwise_impl.h"
#include "reduce.h"
#include "shape.h"
#include "shape_impl.h"

namespace ag {
namespace {

void check_index(const Tensor& index, const Tensor& x, const char* op) {
  AG_CHECK(index.dtype() == DType::i64, op, ": index must be int64, got ",
           dtype_name(index.dtype()), " tensor of shape ", shape_str(index.shape()));
  AG_CHECK(index.device() == x.device(), op, ": index on ", device_name(index.device()),
           ", input on ", device_name(x.device()));
}

// Every index value in [0, size), size being that of `dim`.
void check_range(const Tensor& index, int64_t size, int64_t dim, const char* op) {
  int64_t bad = 0;
  AG_CHECK(kernels::index_in_range[index.device()](index.data_as<int64_t>(), index.numel(),
                                                   size, &bad),
           op, ": index ", bad, " out of range for dim ", dim, " of size ", size);
}

void check_mask(const Tensor& mask, const Tensor& x, const char* op, const char* what) {
  AG_CHECK(mask.dtype() == DType::u8, op, ": ", what, " must be bool (uint8), got ",
           dtype_name(mask.dtype()), " tensor of shape ", shape_str(mask.shape()));
  AG_CHECK(mask.device() == x.device(), op, ": ", what, " on ", device_name(mask.device()),
           ", input on ", device_name(x.device()));
}

// Products of the dims of `s` before and after `dim`.
void outer_inner(const Shape& s, int64_t dim, int64_t& outer, int64_t& inner) {
  outer = inner = 1;
  for (int64_t d = 0; d < static_cast<int64_t>(s.size()); ++d)
    if (d != dim) (d < dim ? outer : inner) *= s[d];
}

}  // namespace

Tensor index_select(const Tensor& x, int64_t dim, const Tensor& index) {
  detail::check_float(x, "index_select");
  dim = dim_of(x, dim, "index_select");
  check_index(index, x, "index_select");
  AG_CHECK(index.dim() == 1, "index_select: index must be 1-D, got shape ",
           shape_str(index.shape()));
  const int64_t n = x.shape()[dim], m = index.numel();
  check_range(index, n, dim, "index_select");
  int64_t outer, inner;
  outer_inner(x.shape(), dim, outer, inner);
  Shape out = x.shape();
  out[dim] = m;
  Tensor y = empty(out, DType::f32, x.device());
  kernels::index_select[x.device()](x.data(), index.data_as<int64_t>(), y.data(), outer, n, m,
                                    inner);
  return attach(y, "index_select", {x}, {{"index", index}},
                [idx = index.detach(), xs = x.shape(), outer, n, m, inner](const Tensor& g,
                                                                           const Needs&) {
                  Tensor gx = zeros(xs, DType::f32, g.device());
                  kernels::index_add[g.device()](g.data(), idx.data_as<int64_t>(), gx.data(),
                                                 outer, n, m, inner);
                  return std::vector<Tensor>{gx};
                });
}

Tensor gather(const Tensor& x, int64_t dim, const Tensor& index) {
  detail::check_float(x, "gather");
  dim = dim_of(x, dim, "gather");
  check_index(index, x, "gather");
  AG_CHECK(index.dim() == x.dim(), "gather: index ", shape_str(index.shape()), " and input ",
           shape_str(x.shape()), " differ in number of dims");
  // x cut down to the index's extent outside dim, so both are [outer, *, inner].
  Tensor xc = x;
  for (int64_t d = 0; d < x.dim(); ++d) {
    if (d == dim) continue;
    AG_CHECK(index.shape()[d] <= x.shape()[d], "gather: index ", shape_str(index.shape()),
             " is larger than input ", shape_str(x.shape()), " in dim ", d);
    if (index.shape()[d] < x.shape()[d]) xc = narrow(xc, d, 0, index.shape()[d]);
  }
  const int64_t n = x.shape()[dim], m = index.shape()[dim];
  check_range(index, n, dim, "gather");
  int64_t outer, inner;
  outer_inner(index.shape(), dim, outer, inner);
  Tensor y = empty(index.shape(), DType::f32, x.device());
  kernels::gather[x.device()](xc.data(), index.data_as<int64_t>(), y.data(), outer, n, m, inner);
  return attach(y, "gather", {xc}, {{"index", index}},
                [idx = index.detach(), xs = xc.shape(), outer, n, m, inner](const Tensor& g,
                                                                            const Needs&) {
                  Tensor gx = zeros(xs, DType::f32, g.device());
                  kernels::scatter_add[g.device()](g.data(), idx.data_as<int64_t>(), gx.data(),
                                                   outer, n, m, inner);
                  return std::vector<Tensor>{gx};
                });
}

Tensor masked_fill(const Tensor& x, const Tensor& mask, float value) {
  detail::check_float(x, "masked_fill");
  check_mask(mask, x, "masked_fill", "mask");
  AG_CHECK(broadcast_shapes(x.shape(), mask.shape(), "masked_fill") == x.shape(),
           "masked_fill: mask ", shape_str(mask.shape()), " cannot be broadcast to ",
           shape_str(x.shape()));
  kernels::StridedPlan<2> plan = make_strided_plan<2>(
      x.shape(), {contiguous_strides(x.shape()), broadcast_strides(mask.shape(), x.shape())},
      "masked_fill");
  Tensor y = empty_like(x);
  kernels::masked_fill[x.device()](x.data(), mask.data_as<uint8_t>(), y.data(), value, plan);
  return attach(y, "masked_fill", {x}, {{"mask", mask}},
                [mask = mask.detach()](const Tensor& g, const Needs&) {
    return std::vector<Tensor>{masked_fill(g, mask, 0.0f)};
  });
}

Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b) {
  detail::check_float(a, "where");
  detail::check_float(b, "where");
  check_mask(cond, a, "where", "cond");
  AG_CHECK(a.device() == b.device(), "where: tensors on ", device_name(a.device()), " and ",
           device_name(b.device()));
  Shape out = broadcast_shapes(broadcast_shapes(cond.shape(), a.shape(), "where"), b.shape(),
                               "where");
  kernels::StridedPlan<3> plan = make_strided_plan<3>(
      out,
      {broadcast_strides(cond.shape(), out), broadcast_strides(a.shape(), out),
       broadcast_strides(b.shape(), out)},
      "where");
  Tensor y = empty(out, DType::f32, a.device());
  kernels::where[a.device()](cond.data_as<uint8_t>(), a.data(), b.data(), y.data(), plan);
  return attach(y, "where", {a, b}, {{"condition", cond}},
                [cond = cond.detach(), sa = a.shape(), sb = b.shape()](const Tensor& g,
                                                                       const Needs& n) {
                  Tensor ga = n[0] ? sum_to(masked_fill(g, logical_not(cond), 0.0f), sa) : Tensor();
                  Tensor gb = n[1] ? sum_to(masked_fill(g, cond, 0.0f), sb) : Tensor();
                  return std::vector<Tensor>{ga, gb};
                });
}

Tensor logical_not(const Tensor& mask) {
  AG_CHECK(mask.dtype() == DType::u8, "logical_not: expects a bool (uint8) mask, got ",
           dtype_name(mask.dtype()), " tensor of shape ", shape_str(mask.shape()));
  Tensor y = empty_like(mask);
  kernels::logical_not[mask.device()](mask.data_as<uint8_t>(), y.data_as<uint8_t>(),
                                      mask.numel());
  return y;
}

Tensor lengths_to_mask(const std::vector<int64_t>& lengths, int64_t max_len, Device device) {
  AG_CHECK(max_len >= 0, "lengths_to_mask: negative max_len ", max_len);
  const int64_t batch = static_cast<int64_t>(lengths.size());
  Tensor mask = zeros({batch, max_len}, DType::u8);
  uint8_t* m = mask.data_as<uint8_t>();
  for (int64_t b = 0; b < batch; ++b) {
    AG_CHECK(lengths[b] >= 0 && lengths[b] <= max_len, "lengths_to_mask: length ", lengths[b],
             " of item ", b, " is outside [0, ", max_len, "]");
    std::fill(m + b * max_len, m + b * max_len + lengths[b], uint8_t{1});
  }
  return device == Device::cpu ? mask : to_device(mask, device);
}

}  // namespace ag
