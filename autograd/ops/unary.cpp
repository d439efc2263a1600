#include "unary.h"

#include "../autograd.h"
#include "elementwise_impl.h"

namespace ag {
namespace detail {

void check_float(const Tensor& t, const char* op) {
  AG_CHECK(t.dtype() == DType::f32, op, ": expects float32, got ", dtype_name(t.dtype()),
           " tensor of shape ", shape_str(t.shape()));
}

Tensor unary_op(kernels::UnaryOp op, const char* name, const Tensor& x, float p0, float p1) {
  check_float(x, name);
  Tensor y = empty_like(x);
  kernels::unary[x.device()](op, x.data(), y.data(), x.numel(), p0, p1);
  // Save only what the backward reads (relu keeps its output, not its input).
  kernels::BackwardReads reads = kernels::backward_reads(op);
  Tensor xs = reads.x ? x.detach() : Tensor(), ys = reads.y ? y.detach() : Tensor();
  return attach(y, name, {x}, {{"input", xs}, {"output", ys}},
                [op, p0, p1, xs, ys](const Tensor& g, const Needs&) {
    Tensor gx = empty_like(g);
    kernels::unary_backward[g.device()](op, xs.defined() ? xs.data() : nullptr,
                                        ys.defined() ? ys.data() : nullptr, g.data(),
                                        gx.data(), g.numel(), p0, p1);
    return std::vector<Tensor>{gx};
  });
}

}  // namespace detail

using detail::unary_op;
using kernels::UnaryOp;

Tensor neg(const Tensor& x) { return unary_op(UnaryOp::neg, "neg", x); }
Tensor exp(const Tensor& x) { return unary_op(UnaryOp::exp, "exp", x); }
Tensor log(const Tensor& x) { return unary_op(UnaryOp::log, "log", x); }
Tensor sqrt(const Tensor& x) { return unary_op(UnaryOp::sqrt, "sqrt", x); }
Tensor rsqrt(const Tensor& x) { return unary_op(UnaryOp::rsqrt, "rsqrt", x); }
Tensor abs(const Tensor& x) { return unary_op(UnaryOp::abs, "abs", x); }
Tensor clamp(const Tensor& x, float min, float max) {
  AG_CHECK(min <= max, "clamp: min ", min, " > max ", max);
  return unary_op(UnaryOp::clamp, "clamp", x, min, max);
}
Tensor relu(const Tensor& x) { return unary_op(UnaryOp::relu, "relu", x); }
Tensor gelu(const Tensor& x) { return unary_op(UnaryOp::gelu, "gelu", x); }
Tensor silu(const Tensor& x) { return unary_op(UnaryOp::silu, "silu", x); }
Tensor sigmoid(const Tensor& x) { return unary_op(UnaryOp::sigmoid, "sigmoid", x); }
Tensor tanh(const Tensor& x) { return unary_op(UnaryOp::tanh, "tanh", x); }
Tensor elu(const Tensor& x, float alpha) {
  AG_CHECK(alpha > 0, "elu: alpha must be positive, got ", alpha);
  return unary_op(UnaryOp::elu, "elu", x, alpha); }

}  // namespace ag
