#include "rel_shift.h"

#include "../autograd.h"
#include "../kernels/rel_shift.h"
#include "elementwise_impl.h"

namespace ag {

Tensor rel_shift(const Tensor& x) {
  detail::check_float(x, "rel_shift");
  AG_CHECK(x.dim() >= 2, "rel_shift: input ", shape_str(x.shape()), " needs at least 2 dims");
  const int64_t t = x.size(-2), p = x.size(-1);
  AG_CHECK(p >= t, "rel_shift: input ", shape_str(x.shape()), " has fewer relative positions (",
           p, ") than queries (", t, ")");
  const int64_t n = t == 0 ? 0 : x.numel() / (t * p);
  Shape out = x.shape();
  out.back() = p - t + 1;
  Tensor y = empty(out, DType::f32, x.device());
  kernels::rel_shift[x.device()](x.data(), y.data(), n, t, p);
  return attach(y, "rel_shift", {x}, {}, [xs = x.shape(), n, t, p](const Tensor& g, const Needs&) {
    Tensor gx = empty(xs, DType::f32, g.device());
    kernels::rel_shift_backward[g.device()](g.data(), gx.data(), n, t, p);
    return std::vector<Tensor>{gx};
  });
}

}  // namespace ag
