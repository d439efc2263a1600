#include "softmax.h"

#include "../autograd.h"
#include "../kernels/dropout.h"
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
  return attach(y, name, {x}, {{"output", y}},
                [v, log, y = y.detach()](const Tensor& g, const Needs&) {
    Tensor gx = empty_like(g);
    kernels::softmax_backward[g.device()](y.data(), g.data(), gx.data(), v.outer, v.n, v.inner,
                                          log);
    return std::vector<Tensor>{gx};
  });
}

}  // namespace

Tensor softmax(const Tensor& x, int64_t dim) { return softmax_op(x, dim, false, "softmax"); }

Tensor masked_softmax(const Tensor& scores, const Tensor& keep, float p, bool training,
                      Generator& gen) {
  detail::check_float(scores, "masked_softmax");
  AG_CHECK(scores.dim() == 4, "masked_softmax: scores ", shape_str(scores.shape()),
           " are not [B, H, T, S]");
  const int64_t B = scores.size(0), H = scores.size(1), T = scores.size(2), S = scores.size(3);
  int64_t mask_t = 1;
  if (keep.defined()) {
    AG_CHECK(keep.dtype() == DType::u8 && keep.dim() == 3 && keep.size(0) == B &&
                 (keep.size(1) == 1 || keep.size(1) == T) && keep.size(2) == S &&
                 keep.device() == scores.device(),
             "masked_softmax: mask ", shape_str(keep.shape()), " ", dtype_name(keep.dtype()),
             " is not uint8 [", B, ", 1 or ", T, ", ", S, "] on the scores' device for scores ",
             shape_str(scores.shape()));
    mask_t = keep.size(1);
  }
  AG_CHECK(p >= 0 && p <= 1, "masked_softmax: dropout p ", p, " outside [0, 1]");
  Tensor y = empty_like(scores);  // [B, H, T, S]
  if (keep.defined()) {
    kernels::masked_softmax[scores.device()](scores.data(), keep.data_as<uint8_t>(), y.data(),
                                             B * H * T, S, H, T, mask_t);
  } else {
    kernels::softmax[scores.device()](scores.data(), y.data(), B * H * T, S, 1, false);
  }
  const bool drop = training && p > 0;
  const uint64_t seed = drop ? gen.engine()() : 0;
  Tensor out = y;
  if (drop) {
    out = empty_like(y);
    kernels::dropout[y.device()](y.data(), out.data(), y.numel(), p, seed);
  }
  // With dropout the saved softmax output is this op's own buffer, out of others' reach.
  return attach(out, "masked_softmax", {scores}, {{"output", drop ? Tensor() : y}},
                [y = y.detach(), drop, p, seed, rows = B * H * T, S](const Tensor& g,
                                                                     const Needs&) {
                  Tensor gy = g;
                  if (drop) {
                    gy = empty_like(g);
                    kernels::dropout[g.device()](g.data(), gy.data(), g.numel(), p, seed);
                  }
                  Tensor gx = empty_like(g);
                  kernels::softmax_backward[g.device()](y.data(), gy.data(), gx.data(), rows, S,
                                                        1, false);
                  return std::vector<Tensor>{gx};
                });
}
Tensor log_softmax(const Tensor& x, int64_t dim) {
  return softmax_op(x, dim, true, "log_softmax");
}

}  // namespace ag
