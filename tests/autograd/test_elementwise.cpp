// Element-wise ops: forward on hand-computed values, broadcasting, gradients.
#include <boost/test/unit_test.hpp>
#include <cmath>

#include "common/gradcheck.h"

using namespace ag;
using testing::check_error;
using testing::check_gradients;
using testing::check_values;

BOOST_AUTO_TEST_CASE(binary_forward_values) {
  Tensor a = from_vector({1, 2, 3, 4, 5, 6}, {2, 3});
  Tensor b = from_vector({10, 20, 30}, {3});
  check_values(add(a, b), {11, 22, 33, 14, 25, 36});
  check_values(sub(a, b), {-9, -18, -27, -6, -15, -24});
  check_values(mul(a, b), {10, 40, 90, 40, 100, 180});
  check_values(div(b, a), {10, 10, 10, 2.5f, 4, 5});
  check_values(pow(a, from_vector({2}, {1})), {1, 4, 9, 16, 25, 36});
  check_values(a * 2.0f + 1.0f, {3, 5, 7, 9, 11, 13});
  check_values(1.0f - a, {0, -1, -2, -3, -4, -5});
  check_values(12.0f / a, {12, 6, 4, 3, 2.4f, 2});
}

BOOST_AUTO_TEST_CASE(broadcasting_edge_cases) {
  // [2,1] with [1,3] -> [2,3]
  Tensor col = from_vector({1, 2}, {2, 1}), row = from_vector({10, 20, 30}, {1, 3});
  Tensor s = add(col, row);
  BOOST_CHECK(s.shape() == (Shape{2, 3}));
  check_values(s, {11, 21, 31, 12, 22, 32});
  // scalar-shaped {} with [2,2]; leading dims added on the left
  check_values(mul(full({}, 3.0f), from_vector({1, 2, 3, 4}, {2, 2})), {3, 6, 9, 12});
  Tensor a = from_vector({1, 2, 3, 4}, {2, 1, 2});
  Tensor b = from_vector({1, 10, 100}, {3, 1});
  Tensor c = mul(a, b);  // [2,3,2]
  BOOST_CHECK(c.shape() == (Shape{2, 3, 2}));
  check_values(c, {1, 2, 10, 20, 100, 200, 3, 4, 30, 40, 300, 400});
  // zero-size dims broadcast to zero elements
  BOOST_CHECK(add(zeros({0, 3}), ones({3})).shape() == (Shape{0, 3}));
  check_error([] { add(zeros({2, 3}), zeros({4})); }, "add: shapes [2,3] and [4] cannot be broadcast");
}

BOOST_AUTO_TEST_CASE(binary_gradients_with_broadcasting) {
  manual_seed(1);
  auto shapes = std::vector<std::pair<Shape, Shape>>{
      {{3, 4}, {3, 4}}, {{3, 4}, {4}}, {{2, 1, 4}, {3, 1}}, {{}, {2, 3}}, {{5}, {1}}};
  for (auto& [sa, sb] : shapes) {
    check_gradients([](auto& in) { return add(in[0], in[1]); }, {normal(sa), normal(sb)});
    check_gradients([](auto& in) { return sub(in[0], in[1]); }, {normal(sa), normal(sb)});
    check_gradients([](auto& in) { return mul(in[0], in[1]); }, {normal(sa), normal(sb)});
    check_gradients([](auto& in) { return div(in[0], in[1]); },
                    {normal(sa), add(uniform(sb, 1, 2), 0.0f).detach()});
    check_gradients([](auto& in) { return pow(in[0], in[1]); },
                    {uniform(sa, 0.5f, 2), uniform(sb, -1, 2)});
  }
}

// GELU runs on a vectorized erf (1.5e-7 absolute): its value and derivative against the exact
// ones in double over a dense grid, the tails and NaN included.
BOOST_AUTO_TEST_CASE(gelu_matches_the_exact_erf_over_a_dense_grid) {
  std::vector<float> grid;
  for (int i = -9000; i <= 9000; ++i) grid.push_back(static_cast<float>(i) * 1e-3f);
  const int64_t n = static_cast<int64_t>(grid.size());
  Tensor x = from_vector(grid, {n}).set_requires_grad(true);
  Tensor y = gelu(x);
  sum(y).backward();
  const std::vector<float> got = y.to_vector(), slope = x.grad().to_vector();
  double worst = 0, worst_slope = 0;
  for (int64_t i = 0; i < n; ++i) {
    const double u = grid[i], cdf = 0.5 * (1 + std::erf(u / std::sqrt(2.0)));
    const double pdf = std::exp(-0.5 * u * u) / std::sqrt(2 * M_PI);
    worst = std::max(worst, std::fabs(got[i] - u * cdf) / (1 + std::fabs(u)));
    worst_slope = std::max(worst_slope, std::fabs(slope[i] - (cdf + u * pdf)));
  }
  BOOST_TEST_MESSAGE("gelu: worst error " << worst << ", derivative " << worst_slope);
  BOOST_CHECK_LT(worst, 5e-7);
  BOOST_CHECK_LT(worst_slope, 1e-6);
  BOOST_CHECK(std::isnan(gelu(from_vector({NAN}, {1})).item()));
}

BOOST_AUTO_TEST_CASE(unary_forward_values) {
  Tensor x = from_vector({-2, -0.5f, 0, 0.5f, 2}, {5});
  auto ref = [&](float (*f)(float)) {
    std::vector<float> r;
    for (float v : x.to_vector()) r.push_back(f(v));
    return r;
  };
  check_values(neg(x), {2, 0.5f, 0, -0.5f, -2});
  check_values(exp(x), ref([](float v) { return std::exp(v); }));
  check_values(abs(x), {2, 0.5f, 0, 0.5f, 2});
  check_values(relu(x), {0, 0, 0, 0.5f, 2});
  check_values(clamp(x, -1, 1), {-1, -0.5f, 0, 0.5f, 1});
  check_values(sigmoid(x), ref([](float v) { return 1 / (1 + std::exp(-v)); }));
  check_values(tanh(x), ref([](float v) { return std::tanh(v); }));
  check_values(silu(x), ref([](float v) { return v / (1 + std::exp(-v)); }));
  check_values(gelu(x), ref([](float v) { return 0.5f * v * (1 + std::erf(v / std::sqrt(2.f))); }));
  check_values(elu(x, 0.7f), ref([](float v) { return v > 0 ? v : 0.7f * (std::exp(v) - 1); }));
  check_values(pow(x, 3.0f), ref([](float v) { return v * v * v; }));
  Tensor p = from_vector({0.25f, 1, 4}, {3});
  check_values(log(p), {std::log(0.25f), 0, std::log(4.0f)});
  check_values(sqrt(p), {0.5f, 1, 2});
  check_values(rsqrt(p), {2, 1, 0.5f});
}

BOOST_AUTO_TEST_CASE(exp_accuracy_and_limits) {
  std::vector<float> xs;
  for (float v = -80; v <= 80; v += 0.37f) xs.push_back(v);
  std::vector<float> got = exp(from_vector(xs, {(int64_t)xs.size()})).to_vector();
  for (size_t i = 0; i < xs.size(); ++i)
    BOOST_CHECK_SMALL(got[i] / std::exp(xs[i]) - 1.0f, 1e-6f);
  Tensor edge = from_vector({-INFINITY, -100, 100}, {3});
  std::vector<float> e = exp(edge).to_vector();
  BOOST_CHECK_EQUAL(e[0], 0.0f);
  BOOST_CHECK_EQUAL(e[1], 0.0f);
  BOOST_CHECK(std::isfinite(e[2]) && e[2] > 1e38f);
  // NaN stays NaN (and takes no undefined float-to-int conversion on the way: UBSan).
  Tensor nan = from_vector({NAN}, {1});
  BOOST_CHECK(std::isnan(exp(nan).item()));
  BOOST_CHECK(std::isnan(sigmoid(nan).item()));
}

BOOST_AUTO_TEST_CASE(unary_gradients) {
  manual_seed(2);
  Shape s{4, 5};
  // Inputs kept away from kinks (relu, abs, clamp at 0 / +-1) so differences are smooth.
  auto away = [&](float lo, float hi) {
    Tensor u = uniform(s, lo, hi);
    Tensor sign = sub(mul(bernoulli(s, 0.5f), 2.0f), 1.0f);
    return mul(u, sign).detach();
  };
  using F = Tensor (*)(const Tensor&);
  for (F f : {F(neg), F(exp), F(relu), F(gelu), F(silu), F(sigmoid), F(tanh), F(abs)})
    check_gradients([f](auto& in) { return f(in[0]); }, {away(0.1f, 2)});
  for (F f : {F(log), F(sqrt), F(rsqrt)})
    check_gradients([f](auto& in) { return f(in[0]); }, {uniform(s, 0.5f, 3)});
  check_gradients([](auto& in) { return elu(in[0], 0.5f); }, {away(0.1f, 2)});
  check_gradients([](auto& in) { return clamp(in[0], -1, 1); }, {away(0.1f, 0.9f)});
  check_gradients([](auto& in) { return clamp(in[0], -1, 1); }, {away(1.1f, 2)},
                  {.zero_gradient = {0}});  // all clamped: zero by construction
  check_gradients([](auto& in) { return pow(in[0], 2.5f); }, {uniform(s, 0.5f, 2)});
  check_gradients([](auto& in) { return div(in[0], 4.0f) - 3.0f; }, {normal(s)});
  check_gradients([](auto& in) { return 2.0f / in[0]; }, {uniform(s, 1, 2)});
}

BOOST_AUTO_TEST_CASE(dtype_and_device_errors) {
  check_error([] { exp(arange(3, DType::i64)); }, "exp: expects float32, got int64");
  check_error([] { clamp(ones({2}), 1, 0); }, "clamp: min 1 > max 0");
}
