#include "matmul.h"

#include <algorithm>
#include <atomic>

#include "../autograd.h"
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

// kernels::gemm on x's device, counted in gemm_count().
void gemm(const Tensor& x, bool ta, bool tb, int64_t M, int64_t N, int64_t K, const float* A,
          int64_t stride_a, const float* B, int64_t stride_b, float* C, int64_t stride_c,
          int64_t batch) {
  multiply_adds.fetch_add(batch * M * N * K, std::memory_order_relaxed);
  const int64_t reads = (stride_a ? batch : 1) * M * K + (stride_b ? batch : 1) * K * N;
  bytes_read.fetch_add(reads * static_cast<int64_t>(sizeof(float)), std::memory_order_relaxed);
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

Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias) {
  AG_CHECK(weight.dim() == 2 && x.dim() >= 1 && x.shape().back() == weight.shape()[1],
           "linear: input ", shape_str(x.shape()), " and weight ", shape_str(weight.shape()),
           " do not align (weight is [out, in])");
  Tensor x2 = x.dim() == 1 ? reshape(x, {1, x.shape()[0]}) : x;
  Tensor y = matmul(x2, weight, false, true);
  if (bias.defined()) {
    AG_CHECK(bias.dim() == 1 && bias.shape()[0] == weight.shape()[0], "linear: bias ",
             shape_str(bias.shape()), " for weight ", shape_str(weight.shape()));
    y = add(y, bias);
  }
  return x.dim() == 1 ? reshape(y, {weight.shape()[0]}) : y;
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
