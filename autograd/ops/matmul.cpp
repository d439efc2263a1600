#include "matmul.h"

#include <algorithm>
#include <atomic>

#include "../autograd.h"
#include "../kernels/elementwise.h"
#include "../kernels/matmul.h"
#include "binary.h"
#include "broadcast.h"
#include "elementwise_impl.h"
#include "reduce.h"
#include "shape.h"

namespace ag {
namespace {

struct MatDims {
  int64_t rows, cols;  // of op(X)
};

MatDims op_dims(const Tensor& x, bool trans) {
  int64_t r = x.shape()[x.dim() - 2], c = x.shape()[x.dim() - 1];
  return trans ? MatDims{c, r} : MatDims{r, c};
}

Shape batch_of(const Tensor& x) { return Shape(x.shape().begin(), x.shape().end() - 2); }

std::atomic<int64_t> multiply_adds{0}, bytes_read{0};

// Counts a GEMM of `batch` products in gemm_count().
void note_gemm(int64_t M, int64_t N, int64_t K, int64_t stride_a, int64_t stride_b,
               int64_t batch) {
  multiply_adds.fetch_add(batch * M * N * K, std::memory_order_relaxed);
  const int64_t reads = (stride_a ? batch : 1) * M * K + (stride_b ? batch : 1) * K * N;
  bytes_read.fetch_add(reads * static_cast<int64_t>(sizeof(float)), std::memory_order_relaxed);
}

kernels::UnaryOp unary_of(Activation act) {
  switch (act) {
    case Activation::relu: return kernels::UnaryOp::relu;
    case Activation::gelu: return kernels::UnaryOp::gelu;
    case Activation::silu: return kernels::UnaryOp::silu;
    case Activation::none: break;
  }
  return kernels::UnaryOp::neg;  // unused: no activation runs
}

// kernels::gemm on x's device, counted in gemm_count().
void gemm(const Tensor& x, bool ta, bool tb, int64_t M, int64_t N, int64_t K, const float* A,
          int64_t stride_a, const float* B, int64_t stride_b, float* C, int64_t stride_c,
          int64_t batch) {
  note_gemm(M, N, K, stride_a, stride_b, batch);
  kernels::gemm[x.device()](ta, tb, M, N, K, 1.0f, A, stride_a, B, stride_b, 0.0f, C, stride_c,
                            batch);
}

// Batched product with broadcast batch dims; no autograd.
Tensor matmul_raw(const Tensor& a, const Tensor& b, bool ta, bool tb) {
  MatDims da = op_dims(a, ta), db = op_dims(b, tb);
  const int64_t M = da.rows, K = da.cols, N = db.cols;
  Shape batch = broadcast_shapes(batch_of(a), batch_of(b), "matmul");
  Shape out_shape = batch;
  out_shape.push_back(M);
  out_shape.push_back(N);
  Tensor c = empty(out_shape, DType::f32, a.device());
  const int64_t count = numel_of(batch), sa = M * K, sb = K * N;
  // Broadcast plan over the batch dims only: its strides count matrices.
  kernels::BroadcastPlan plan = make_broadcast_plan(batch_of(a), batch_of(b), batch);
  if (plan.ndim == 1 && (plan.stride_a[0] <= 1) && (plan.stride_b[0] <= 1)) {
    gemm(a, ta, tb, M, N, K, a.data(), plan.stride_a[0] * sa, b.data(), plan.stride_b[0] * sb,
         c.data(), M * N, count);
    return c;
  }
  // Irregular broadcasting: one strided-batched call per index of the outer plan dims.
  const int last = plan.ndim - 1;
  const int64_t inner = plan.shape[last], outer = count / inner;
  for (int64_t i = 0; i < outer; ++i) {
    int64_t oa = 0, ob = 0, rem = i;
    for (int d = last - 1; d >= 0; --d) {
      int64_t k = rem % plan.shape[d];
      rem /= plan.shape[d];
      oa += k * plan.stride_a[d];
      ob += k * plan.stride_b[d];
    }
    gemm(a, ta, tb, M, N, K, a.data() + oa * sa, plan.stride_a[last] * sa, b.data() + ob * sb,
         plan.stride_b[last] * sb, c.data() + i * inner * M * N, M * N, inner);
  }
  return c;
}

}  // namespace

Tensor matmul(const Tensor& a, const Tensor& b, bool ta, bool tb) {
  detail::check_float(a, "matmul");
  detail::check_float(b, "matmul");
  AG_CHECK(a.dim() >= 2 && b.dim() >= 2, "matmul: ", shape_str(a.shape()), " and ",
           shape_str(b.shape()), ": both operands need at least 2 dims");
  AG_CHECK(a.device() == b.device(), "matmul: tensors on ", device_name(a.device()), " and ",
           device_name(b.device()));
  MatDims da = op_dims(a, ta), db = op_dims(b, tb);
  AG_CHECK(da.cols == db.rows, "matmul: ", shape_str(a.shape()), ta ? "^T" : "", " and ",
           shape_str(b.shape()), tb ? "^T" : "", " do not align");
  // [B..., M, K] x [K, N]: one GEMM over the folded rows.
  if (b.dim() == 2 && a.dim() > 2 && !ta) {
    Shape out = a.shape();
    out.back() = db.cols;
    return reshape(matmul(reshape(a, {-1, a.shape().back()}), b, false, tb), out);
  }
  Tensor c = matmul_raw(a, b, ta, tb);
  return attach(c, "matmul", {a, b}, {{"self", a}, {"other", b}},
                [a = a.detach(), b = b.detach(), ta, tb](const Tensor& g, const Needs& n) {
                  Tensor ga, gb;
                  if (n[0]) ga = ta ? matmul_raw(b, g, tb, true) : matmul_raw(g, b, false, !tb);
                  if (n[1]) gb = tb ? matmul_raw(g, a, true, ta) : matmul_raw(a, g, !ta, false);
                  return std::vector<Tensor>{ga.defined() ? sum_to(ga, a.shape()) : ga,
                                             gb.defined() ? sum_to(gb, b.shape()) : gb};
                });
}

Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias, Activation act) {
  detail::check_float(x, "linear");
  detail::check_float(weight, "linear");
  AG_CHECK(weight.dim() == 2 && x.dim() >= 1 && x.shape().back() == weight.shape()[1],
           "linear: input ", shape_str(x.shape()), " and weight ", shape_str(weight.shape()),
           " do not align (weight is [out, in])");
  AG_CHECK(x.device() == weight.device(), "linear: input on ", device_name(x.device()),
           ", weight on ", device_name(weight.device()));
  const int64_t N = weight.shape()[0], K = weight.shape()[1], M = x.numel() / K;
  if (bias.defined()) {
    detail::check_float(bias, "linear");
    AG_CHECK(bias.dim() == 1 && bias.shape()[0] == N && bias.device() == x.device(),
             "linear: bias ", shape_str(bias.shape()), " on ", device_name(bias.device()),
             " for weight ", shape_str(weight.shape()), " on ", device_name(weight.device()));
  }
  Shape out_shape = x.shape();
  out_shape.back() = N;
  // z = x W^T + b: the bias rows are written first and the GEMM accumulates onto them
  // (beta = 1), which replaces BLAS's zeroing pass instead of adding a pass of its own.
  Tensor z;  // [M, N]
  if (bias.defined()) {
    NoGradGuard no_grad;
    z = reshape(broadcast_to(bias.detach(), {M, N}), out_shape);
  } else {
    z = empty(out_shape, DType::f32, x.device());
  }
  note_gemm(M, N, K, 0, 0, 1);
  kernels::gemm[x.device()](false, true, M, N, K, 1.0f, x.data(), 0, weight.data(), 0,
                            bias.defined() ? 1.0f : 0.0f, z.data(), 0, 1);
  const bool activated = act != Activation::none;
  const kernels::UnaryOp op = unary_of(act);
  Tensor y = z;
  if (activated) {
    y = empty_like(z);
    kernels::unary[x.device()](op, z.data(), y.data(), z.numel(), 0.0f, 0.0f);
  }
  // The activation's backward reads its input (z) or its output (y), as the plain op would.
  const kernels::BackwardReads reads =
      activated ? kernels::backward_reads(op) : kernels::BackwardReads{false, false};
  Tensor zs = reads.x ? z.detach() : Tensor(), ys = reads.y ? y.detach() : Tensor();
  return attach(y, "linear", {x, weight, bias},
                {{"input", x}, {"weight", weight}, {"pre_activation", zs}, {"output", ys}},
                [x = x.detach(), w = weight.detach(), zs, ys, activated, op, M, N,
                 K](const Tensor& g, const Needs& n) {
                  Tensor gz = g;  // dL/dz, [..., N]
                  if (activated) {
                    gz = empty_like(g);
                    kernels::unary_backward[g.device()](op, zs.defined() ? zs.data() : nullptr,
                                                        ys.defined() ? ys.data() : nullptr,
                                                        g.data(), gz.data(), g.numel(), 0.0f,
                                                        0.0f);
                  }
                  Tensor gx, gw, gb;
                  if (n[0]) {  // [M, N] x [N, K]
                    gx = empty(x.shape(), DType::f32, g.device());
                    note_gemm(M, K, N, 0, 0, 1);
                    kernels::gemm[g.device()](false, false, M, K, N, 1.0f, gz.data(), 0,
                                              w.data(), 0, 0.0f, gx.data(), 0, 1);
                  }
                  if (n[1]) {  // [M, N]^T x [M, K]
                    gw = empty(w.shape(), DType::f32, g.device());
                    note_gemm(N, K, M, 0, 0, 1);
                    kernels::gemm[g.device()](true, false, N, K, M, 1.0f, gz.data(), 0,
                                              x.data(), 0, 0.0f, gw.data(), 0, 1);
                  }
                  if (n[2]) gb = sum_to(reshape(gz, {M, N}), {N});
                  return std::vector<Tensor>{gx, gw, gb};
                });
}

Tensor matmul_window(const Tensor& a, const Tensor& b, int64_t first, int64_t rows, bool tb) {
  detail::check_float(a, "matmul_window");
  detail::check_float(b, "matmul_window");
  AG_CHECK(!grad_enabled() || (!a.requires_grad() && !b.requires_grad()),
           "matmul_window: records no gradient; call it under NoGradGuard or on tensors that ",
           "need none");
  AG_CHECK(a.device() == b.device(), "matmul_window: tensors on ", device_name(a.device()),
           " and ", device_name(b.device()));
  AG_CHECK(a.dim() >= 2 && b.dim() >= 2 && a.dim() >= b.dim(), "matmul_window: ",
           shape_str(a.shape()), " and ", shape_str(b.shape()),
           ": both need 2 dims or more, a at least as many as b");
  const int64_t R = b.size(-2), Kb = b.size(-1), M = a.size(-2), Ka = a.size(-1);
  AG_CHECK(first >= 0 && rows >= 1 && first + rows <= R, "matmul_window: rows [", first, ", ",
           first + rows, ") outside the ", R, " rows of ", shape_str(b.shape()));
  AG_CHECK(Ka == (tb ? Kb : rows), "matmul_window: ", shape_str(a.shape()), " and rows [", first,
           ", ", first + rows, ") of ", shape_str(b.shape()), tb ? "^T" : "", " do not align");
  const Shape batch_a = batch_of(a), batch_b = batch_of(b);
  AG_CHECK(std::equal(batch_b.begin(), batch_b.end(), batch_a.end() - batch_b.size()),
           "matmul_window: the batch dims of ", shape_str(b.shape()), " are not the last of ",
           shape_str(a.shape()));
  const int64_t N = tb ? rows : Kb, inner = numel_of(batch_b), outer = numel_of(batch_a) / inner;
  Shape out_shape = batch_a;
  out_shape.push_back(M);
  out_shape.push_back(N);
  Tensor c = empty(out_shape, DType::f32, a.device());
  for (int64_t o = 0; o < outer; ++o)
    gemm(a, false, tb, M, N, Ka, a.data() + o * inner * M * Ka, M * Ka, b.data() + first * Kb,
         R * Kb, c.data() + o * inner * M * N, M * N, inner);
  return c;
}

GemmCount gemm_count() {
  return {multiply_adds.load(std::memory_order_relaxed),
          bytes_read.load(std::memory_order_relaxed)};
}

}  // namespace ag
