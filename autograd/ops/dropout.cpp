#include "dropout.h"

#include "../autograd.h"
#include "../kernels/dropout.h"
#include "elementwise_impl.h"

namespace ag {

Tensor dropout(const Tensor& x, float p, bool training, Generator& gen) {
  detail::check_float(x, "dropout");
  AG_CHECK(p >= 0 && p <= 1, "dropout: p ", p, " outside [0, 1] for input ",
           shape_str(x.shape()));
  if (!training || p == 0) return x;
  const uint64_t seed = gen.engine()();
  Tensor y = empty_like(x);
  kernels::dropout[x.device()](x.data(), y.data(), x.numel(), p, seed);
  // The mask is a function of (seed, index): the backward redraws it instead of saving it.
  return attach(y, "dropout", {x}, {}, [p, seed](const Tensor& g, const Needs&) {
    Tensor gx = empty_like(g);
    kernels::dropout[g.device()](g.data(), gx.data(), g.numel(), p, seed);
    return std::vector<Tensor>{gx};
  });
}

}  // namespace ag
