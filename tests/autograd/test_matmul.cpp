// matmul (2-D, batched, broadcast batch dims, BLAS transpose flags) and linear.
#include <boost/test/unit_test.hpp>

#include "common/gradcheck.h"

using namespace ag;
using testing::check_error;
using testing::check_gradients;
using testing::check_values;
using testing::max_abs_diff;

namespace {
// Reference: element loops over explicit matrices. a [B?, M, K], b [B?, K, N], b may be 2-D.
Tensor naive_matmul(const Tensor& a, const Tensor& b) {
  int64_t batch = a.dim() == 3 ? a.size(0) : 1;
  int64_t M = a.size(-2), K = a.size(-1), N = b.size(-1);
  std::vector<float> av = a.to_vector(), bv = b.to_vector(), c(batch * M * N);
  bool b_batched = b.dim() == 3;
  for (int64_t p = 0; p < batch; ++p)
    for (int64_t i = 0; i < M; ++i)
      for (int64_t j = 0; j < N; ++j) {
        double s = 0;
        for (int64_t k = 0; k < K; ++k)
          s += av[(p * M + i) * K + k] * bv[((b_batched ? p : 0) * K + k) * N + j];
        c[(p * M + i) * N + j] = static_cast<float>(s);
      }
  return from_vector(c, a.dim() == 3 ? Shape{batch, M, N} : Shape{M, N});
}

// Materialized transpose of the last two dims (reference only).
Tensor transposed(const Tensor& x) {
  int64_t batch = x.numel() / (x.size(-2) * x.size(-1)), R = x.size(-2), C = x.size(-1);
  std::vector<float> v = x.to_vector(), t(v.size());
  for (int64_t p = 0; p < batch; ++p)
    for (int64_t i = 0; i < R; ++i)
      for (int64_t j = 0; j < C; ++j) t[(p * C + j) * R + i] = v[(p * R + i) * C + j];
  Shape s = x.shape();
  std::swap(s[s.size() - 1], s[s.size() - 2]);
  return from_vector(t, s);
}
}  // namespace

BOOST_AUTO_TEST_CASE(matmul_small_values) {
  Tensor a = from_vector({1, 2, 3, 4, 5, 6}, {2, 3});
  Tensor b = from_vector({7, 8, 9, 10, 11, 12}, {3, 2});
  check_values(matmul(a, b), {58, 64, 139, 154});
  check_values(matmul(a, a, false, true), {14, 32, 32, 77});
  check_values(matmul(a, a, true, false), {17, 22, 27, 22, 29, 36, 27, 36, 45});
}

BOOST_AUTO_TEST_CASE(matmul_matches_reference_with_flags_and_batches) {
  manual_seed(4);
  Tensor a = normal({3, 5, 7}), b = normal({3, 7, 4}), w = normal({7, 4});
  BOOST_CHECK_SMALL(max_abs_diff(matmul(a, b), naive_matmul(a, b)), 1e-4f);
  BOOST_CHECK_SMALL(max_abs_diff(matmul(a, w), naive_matmul(a, w)), 1e-4f);
  BOOST_CHECK_SMALL(max_abs_diff(matmul(transposed(a), b, true, false), naive_matmul(a, b)), 1e-4f);
  BOOST_CHECK_SMALL(max_abs_diff(matmul(a, transposed(b), false, true), naive_matmul(a, b)), 1e-4f);
  BOOST_CHECK_SMALL(
      max_abs_diff(matmul(transposed(a), transposed(b), true, true), naive_matmul(a, b)), 1e-4f);
  // 4-D attention shapes: [B,H,T,D] x [B,H,S,D]^T
  Tensor q = normal({2, 3, 6, 4}), k = normal({2, 3, 5, 4});
  Tensor scores = matmul(q, k, false, true);
  BOOST_CHECK(scores.shape() == (Shape{2, 3, 6, 5}));
  BOOST_CHECK_SMALL(max_abs_diff(reshape(scores, {6, 6, 5}),
                                 naive_matmul(reshape(q, {6, 6, 4}), transposed(reshape(k, {6, 5, 4})))),
                    1e-4f);
  // Broadcast batch dims: [2,1,M,K] x [1,3,K,N] -> [2,3,M,N]
  Tensor x = normal({2, 1, 4, 5}), y = normal({1, 3, 5, 2});
  Tensor z = matmul(x, y);
  BOOST_REQUIRE(z.shape() == (Shape{2, 3, 4, 2}));
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 3; ++j) {
      std::vector<float> xv = x.to_vector(), yv = y.to_vector();
      Tensor xi = from_vector({xv.begin() + i * 20, xv.begin() + (i + 1) * 20}, {4, 5});
      Tensor yj = from_vector({yv.begin() + j * 10, yv.begin() + (j + 1) * 10}, {5, 2});
      Tensor ref = naive_matmul(xi, yj);
      for (int r = 0; r < 4; ++r)
        for (int c = 0; c < 2; ++c)
          BOOST_CHECK_SMALL(z.at({i, j, r, c}) - ref.at({r, c}), 1e-4f);
    }
  // Large enough to use OpenBLAS threads.
  Tensor big_a = normal({300, 200}), big_b = normal({200, 100});
  BOOST_CHECK_SMALL(max_abs_diff(matmul(big_a, big_b), naive_matmul(big_a, big_b)), 1e-3f);
}

BOOST_AUTO_TEST_CASE(matmul_gradients) {
  manual_seed(5);
  for (bool ta : {false, true})
    for (bool tb : {false, true}) {
      Shape sa = ta ? Shape{2, 4, 3} : Shape{2, 3, 4};
      Shape sb = tb ? Shape{2, 5, 4} : Shape{2, 4, 5};
      check_gradients([=](auto& in) { return matmul(in[0], in[1], ta, tb); }, {normal(sa), normal(sb)});
      Shape wb = tb ? Shape{5, 4} : Shape{4, 5};
      check_gradients([=](auto& in) { return matmul(in[0], in[1], ta, tb); }, {normal(sa), normal(wb)});
    }
  check_gradients([](auto& in) { return matmul(in[0], in[1]); }, {normal({2, 1, 3, 4}), normal({1, 3, 4, 2})});
  check_gradients([](auto& in) { return matmul(in[0], in[1]); }, {normal({3, 4}), normal({2, 4, 3})});
}

BOOST_AUTO_TEST_CASE(linear_layout_and_gradients) {
  Tensor x = from_vector({1, 2}, {1, 2});
  Tensor w = from_vector({1, 0, 0, 1, 1, 1}, {3, 2});  // [out=3, in=2]
  Tensor b = from_vector({0.5f, 0, -1}, {3});
  check_values(linear(x, w, b), {1.5f, 2, 2});
  check_values(linear(from_vector({1, 2}, {2}), w), {1, 2, 3});
  manual_seed(6);
  check_gradients([](auto& in) { return linear(in[0], in[1], in[2]); },
                  {normal({2, 3, 4}), normal({5, 4}), normal({5})});
  check_error([&] { linear(x, from_vector({1, 2, 3}, {1, 3})); },
              "linear: input [1,2] and weight [1,3] do not align");
}

// The fused activation equals the separate ops, values and gradients, for every activation.
BOOST_AUTO_TEST_CASE(linear_activation_equals_separate_ops) {
  manual_seed(8);
  using F = Tensor (*)(const Tensor&);
  const Tensor x0 = normal({2, 3, 4}), w0 = normal({5, 4}), b0 = normal({5}),
               g = normal({2, 3, 5});
  for (const auto& [act, separate] : {std::pair{Activation::relu, F{relu}},
                                      std::pair{Activation::gelu, F{gelu}},
                                      std::pair{Activation::silu, F{silu}}}) {
    auto run = [&](bool fused) {  // output, then the gradients of x, w and b
      Tensor x = clone_data(x0).set_requires_grad(true), w = clone_data(w0).set_requires_grad(true),
             b = clone_data(b0).set_requires_grad(true);
      Tensor y = fused ? linear(x, w, b, act) : separate(add(matmul(x, w, false, true), b));
      sum(mul(y, g)).backward();
      return std::vector<Tensor>{y.detach(), x.grad(), w.grad(), b.grad()};
    };
    std::vector<Tensor> fused = run(true), plain = run(false);
    for (size_t i = 0; i < fused.size(); ++i)
      BOOST_CHECK_MESSAGE(testing::max_abs_diff(fused[i], plain[i]) <=
                              1e-5f * (1 + testing::max_abs(plain[i])),
                          "tensor " << i << " differs by " << testing::max_abs_diff(fused[i], plain[i]));
  }
}

BOOST_AUTO_TEST_CASE(matmul_errors) {
  check_error([] { matmul(zeros({8, 250, 256}), zeros({512, 256})); },
              "matmul: [8,250,256] and [512,256] do not align");
  check_error([] { matmul(zeros({3}), zeros({3, 2})); }, "both operands need at least 2 dims");
  check_error([] { matmul(zeros({2, 3, 4}), zeros({3, 4, 5})); },
              "matmul: shapes [2] and [3] cannot be broadcast");
}

BOOST_AUTO_TEST_CASE(matmul_window_equals_matmul_on_the_narrowed_rows) {
  manual_seed(5);
  NoGradGuard no_grad;
  Tensor buf = normal({2, 3, 9, 4});  // [B, H, R, K]: rows 2 .. 6 held
  Tensor held = narrow(buf, 2, 2, 5);
  Tensor q = normal({2, 3, 6, 4});    // against the rows, transposed: [B, H, 6, 5]
  BOOST_CHECK_EQUAL(max_abs_diff(matmul_window(q, buf, 2, 5, true), matmul(q, held, false, true)),
                    0.0f);
  Tensor w = normal({2, 3, 6, 5});    // weights over the rows: [B, H, 6, 4]
  BOOST_CHECK_EQUAL(max_abs_diff(matmul_window(w, buf, 2, 5, false), matmul(w, held)), 0.0f);
  // b's batch dims are a's last ones: a [2, 3, 6, 4] against a table [3, 9, 4].
  Tensor table = normal({3, 9, 4});
  BOOST_CHECK_EQUAL(max_abs_diff(matmul_window(q, table, 0, 9, true),
                                 matmul(q, broadcast_to(table, {2, 3, 9, 4}), false, true)),
                    0.0f);
}

BOOST_AUTO_TEST_CASE(gemm_count_counts_multiply_adds_and_operand_bytes) {
  NoGradGuard no_grad;
  const GemmCount before = gemm_count();
  matmul(ones({2, 3, 4}), ones({4, 5}));  // folded: one [6, 4] x [4, 5] product
  matmul_window(ones({2, 3, 4}), ones({2, 7, 4}), 1, 5, true);  // 2 x [3, 4] x [4, 5]
  const GemmCount after = gemm_count();
  BOOST_CHECK_EQUAL(after.multiply_adds - before.multiply_adds, 6 * 4 * 5 + 2 * 3 * 4 * 5);
  BOOST_CHECK_EQUAL(after.bytes_read - before.bytes_read,
                    4 * ((6 * 4 + 4 * 5) + 2 * (3 * 4 + 5 * 4)));
}

BOOST_AUTO_TEST_CASE(matmul_window_errors) {
  Tensor buf = zeros({2, 9, 4});
  check_error([&] { NoGradGuard g; matmul_window(zeros({2, 3, 4}), buf, 6, 4, true); },
              "rows [6, 10) outside the 9 rows of [2,9,4]");
  check_error([&] { NoGradGuard g; matmul_window(zeros({2, 3, 5}), buf, 0, 4, true); },
              "do not align");
  check_error([&] { NoGradGuard g; matmul_window(zeros({3, 3, 4}), buf, 0, 4, true); },
              "the batch dims of [2,9,4] are not the last of [3,3,4]");
  Tensor a = zeros({2, 3, 4});
  a.set_requires_grad(true);
  check_error([&] { matmul_window(a, buf, 0, 4, true); }, "records no gradient");
}
