#include "softmax.h"

#include "../autograd.h"
#include "../kernels/softmax.h"
#include "elementwise_impl.h"

namespace ag {
namespace {

// x viewed as [outer, n, inner] around `dim`.
struct Slices {
  int64_t outer = 1, n = 1, inner = 1;
};

Slices slices_around(const Shape& s, int64_t dim) {
  Slices v;
  for (int64_t d = 0; d < static_cast<int64_t>(s.size()); ++d)
    (d < dim ? v.outer : d == dim ? v.n : v.inner) *= s[d];
  return v;
}

Tensor softmax_op(const Tensor& x, int64_t dim, bool log, const char* name) {
  detail::check_float(x, name);
  // A 0-d tensor is one slice of one element (dim 0 or -1).
  dim = wrap_dim(dim, std::max<int64_t>(x.dim(), 1), name);
  const Slices v = slices_around(x.shape(), dim);
  Tensor y = empty_like(x);
  kernels::softmax[x.device()](x.data(), y.data(), v.outer, v.n, v.inner, log);
  return attach(y, name, {x}, [v, log, y = y.detach()](const Tensor& g, const Needs&) {
    Tensor gx = empty_like(g);
    kernels::softmax_backward[g.device()](y.data(), g.data(), gx.data(), v.outer, v.n, v.inner,
                                          log);
    return std::vector<Tensor>{gx};
  });
}

}  // namespace

Tensor softmax(const Tensor& x, int64_t dim) { return softmax_op(x, dim, false, "softmax"); }
Tensor log_softmax(const Tensor& x, int64_t dim) {
  return softmax_op(x, dim, true, "log_softmax");
}

}  // namespace ag
