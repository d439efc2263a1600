#include "binary.h"

#include "../autograd.h"
#include "broadcast.h"
#include "elementwise_impl.h"
#include "reduce.h"
#include "unary.h"

namespace ag {
namespace {
using kernels::BinaryOp;
using kernels::UnaryOp;

// out = a op b with broadcasting; no autograd.
Tensor binary_raw(BinaryOp op, const char* name, const Tensor& a, const Tensor& b) {
  detail::check_float(a, name);
  detail::check_float(b, name);
  AG_CHECK(a.device() == b.device(), name, ": tensors on ", device_name(a.device()), " and ",
           device_name(b.device()));
  Shape out_shape = broadcast_shapes(a.shape(), b.shape(), name);
  Tensor out = empty(out_shape, DType::f32, a.device());
  kernels::binary[a.device()](op, a.data(), b.data(), out.data(),
                              make_broadcast_plan(a.shape(), b.shape(), out_shape));
  return out;
}

std::vector<Tensor> grads(Tensor ga, Tensor gb, const Shape& sa, const Shape& sb) {
  return {ga.defined() ? sum_to(ga, sa) : Tensor(), gb.defined() ? sum_to(gb, sb) : Tensor()};
}
}  // namespace

Tensor add(const Tensor& a, const Tensor& b) {
  Tensor y = binary_raw(BinaryOp::add, "add", a, b);
  return attach(y, "add", {a, b}, {},
                [sa = a.shape(), sb = b.shape()](const Tensor& g, const Needs& n) {
    return grads(n[0] ? g : Tensor(), n[1] ? g : Tensor(), sa, sb);
  });
}

Tensor sub(const Tensor& a, const Tensor& b) {
  Tensor y = binary_raw(BinaryOp::sub, "sub", a, b);
  return attach(y, "sub", {a, b}, {},
                [sa = a.shape(), sb = b.shape()](const Tensor& g, const Needs& n) {
    return grads(n[0] ? g : Tensor(), n[1] ? neg(g) : Tensor(), sa, sb);
  });
}

Tensor mul(const Tensor& a, const Tensor& b) {
  Tensor y = binary_raw(BinaryOp::mul, "mul", a, b);
  // Each gradient reads the other operand: keep only those that will be read.
  Tensor as = b.requires_grad() ? a.detach() : Tensor();
  Tensor bs = a.requires_grad() ? b.detach() : Tensor();
  return attach(y, "mul", {a, b}, {{"self", as}, {"other", bs}},
                [as, bs, sa = a.shape(), sb = b.shape()](const Tensor& g, const Needs& n) {
                  return grads(n[0] ? mul(g, bs) : Tensor(), n[1] ? mul(g, as) : Tensor(), sa, sb);
                });
}

Tensor div(const Tensor& a, const Tensor& b) {
  Tensor y = binary_raw(BinaryOp::div, "div", a, b);
  return attach(y, "div", {a, b}, {{"self", a}, {"other", b}},
                [a = a.detach(), b = b.detach()](const Tensor& g, const Needs& n) {
                  Tensor ga = n[0] ? div(g, b) : Tensor();
                  Tensor gb = n[1] ? neg(div(mul(g, a), mul(b, b))) : Tensor();
                  return grads(ga, gb, a.shape(), b.shape());
                });
}

Tensor pow(const Tensor& a, const Tensor& b) {
  Tensor y = binary_raw(BinaryOp::pow, "pow", a, b);
  return attach(y, "pow", {a, b}, {{"self", a}, {"exponent", b}, {"output", y}},
                [a = a.detach(), b = b.detach(), y = y.detach()](const Tensor& g, const Needs& n) {
                  Tensor ga = n[0] ? mul(g, mul(b, pow(a, sub(b, full({}, 1.0f, b.device())))))
                                   : Tensor();
                  Tensor gb = n[1] ? mul(g, mul(y, log(a))) : Tensor();
                  return grads(ga, gb, a.shape(), b.shape());
                });
}

Tensor add(const Tensor& a, float s) { return detail::unary_op(UnaryOp::add, "add", a, s); }
Tensor sub(const Tensor& a, float s) { return detail::unary_op(UnaryOp::add, "sub", a, -s); }
Tensor mul(const Tensor& a, float s) { return detail::unary_op(UnaryOp::mul, "mul", a, s); }
Tensor div(const Tensor& a, float s) { return detail::unary_op(UnaryOp::mul, "div", a, 1.0f / s); }
Tensor pow(const Tensor& a, float e) { return detail::unary_op(UnaryOp::pow, "pow", a, e); }
Tensor rsub(float s, const Tensor& a) { return add(neg(a), s); }
Tensor rdiv(float s, const Tensor& a) { return mul(pow(a, -1.0f), s); }

Tensor broadcast_to(const Tensor& x, const Shape& shape) {
  detail::check_float(x, "broadcast_to");
  AG_CHECK(broadcast_shapes(x.shape(), shape, "broadcast_to") == shape, "broadcast_to: ",
           shape_str(x.shape()), " cannot be broadcast to ", shape_str(shape));
  if (x.shape() == shape) return x;
  Tensor y = empty(shape, DType::f32, x.device());
  kernels::broadcast[x.device()](x.data(), y.data(), make_broadcast_plan(x.shape(), x.shape(), shape));
  return attach(y, "broadcast_to", {x}, {},
                [xs = x.shape()](const Tensor& g, const Needs&) {
    return std::vector<Tensor>{sum_to(g, xs)};
  });
}

}  // namespace ag
