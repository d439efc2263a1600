// softmax / log_softmax: forward against a double-precision reference along every dim,
// numerical edge cases (huge inputs, -inf, all -inf), fused gradients, errors.
#include <boost/test/unit_test.hpp>
#include <cmath>

#include "common/gradcheck.h"

using namespace ag;
using testing::check_error;
using testing::check_gradients;
using testing::check_values;

namespace {

// softmax (or log_softmax) of x along dim, computed naively in double.
std::vector<float> reference(const Tensor& x, int64_t dim, bool log) {
  std::vector<float> v = x.to_vector(), out(v.size());
  int64_t outer = 1, n = x.shape()[dim], inner = 1;
  for (int64_t d = 0; d < dim; ++d) outer *= x.shape()[d];
  for (int64_t d = dim + 1; d < x.dim(); ++d) inner *= x.shape()[d];
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < inner; ++i) {
      auto at = [&](int64_t k) { return (o * n + k) * inner + i; };
      double m = -INFINITY, s = 0;
      for (int64_t k = 0; k < n; ++k) m = std::max<double>(m, v[at(k)]);
      for (int64_t k = 0; k < n; ++k) s += std::exp(v[at(k)] - m);
      for (int64_t k = 0; k < n; ++k)
        out[at(k)] = static_cast<float>(log ? v[at(k)] - m - std::log(s)
                                            : std::exp(v[at(k)] - m) / s);
    }
  return out;
}

}  // namespace

BOOST_AUTO_TEST_CASE(softmax_small_hand_values) {
  // e^0, e^1, e^2 over their sum 1 + e + e^2 = 11.1073...
  Tensor x = from_vector({0, 1, 2}, {3});
  check_values(softmax(x, 0), {0.0900306f, 0.2447285f, 0.6652410f});
  check_values(log_softmax(x, -1), {-2.4076059f, -1.4076059f, -0.4076059f});
  // A 0-d tensor is one slice of one element.
  check_values(softmax(full({}, 3.0f), -1), {1});
}

BOOST_AUTO_TEST_CASE(forward_matches_reference_along_every_dim) {
  manual_seed(3);
  // [3,4,5] along each dim; [2,37] and [3,70,2] exercise the vector body plus its tail;
  // [2,3,70] along dim 1 spans two column blocks of the strided path.
  std::vector<std::pair<Shape, int64_t>> cases = {
      {{3, 4, 5}, 0}, {{3, 4, 5}, 1}, {{3, 4, 5}, 2}, {{3, 4, 5}, -1},
      {{2, 37}, 1},   {{3, 70, 2}, 1}, {{2, 3, 70}, 1}, {{1, 1}, 0},
      {{100, 400}, 1}, {{4, 300, 40}, 1}};  // the last two split over threads
  for (auto& [shape, dim] : cases) {
    Tensor x = mul(normal(shape), 3.0f);
    int64_t d = dim < 0 ? dim + static_cast<int64_t>(shape.size()) : dim;
    check_values(softmax(x, dim), reference(x, d, false), 1e-5f);
    check_values(log_softmax(x, dim), reference(x, d, true), 1e-5f);
  }
}

BOOST_AUTO_TEST_CASE(rows_sum_to_one) {
  manual_seed(4);
  Tensor y = softmax(mul(normal({5, 300}), 10.0f), 1);
  std::vector<float> s = sum(y, {1}).to_vector();
  for (float v : s) BOOST_CHECK_CLOSE(v, 1.0f, 1e-3);
}

BOOST_AUTO_TEST_CASE(large_magnitudes_stay_finite) {
  Tensor x = from_vector({1000, -1000, 0, 1e30f, 1e30f, -1e30f}, {2, 3});
  check_values(softmax(x, 1), {1, 0, 0, 0.5f, 0.5f, 0});
  std::vector<float> l = log_softmax(x, 1).to_vector();
  for (float v : l) BOOST_CHECK(std::isfinite(v));
  BOOST_CHECK_CLOSE(l[0], 0.0f, 1e-4);
  BOOST_CHECK_CLOSE(l[1], -2000.0f, 1e-4);
  BOOST_CHECK_CLOSE(l[3], -std::log(2.0f), 1e-4);
  // Huge values along a strided dim too.
  check_values(softmax(from_vector({1000, 0, -1000, 0}, {2, 2}), 0), {1, 0.5f, 0, 0.5f});
}

BOOST_AUTO_TEST_CASE(minus_infinity_gets_probability_zero) {
  Tensor x = from_vector({-INFINITY, 0, 0, 1, -INFINITY, 1}, {2, 3});
  check_values(softmax(x, 1), {0, 0.5f, 0.5f, 0.5f, 0, 0.5f});
  std::vector<float> l = log_softmax(x, 1).to_vector();
  BOOST_CHECK(std::isinf(l[0]) && l[0] < 0);
  BOOST_CHECK_CLOSE(l[1], -std::log(2.0f), 1e-4);
  check_values(softmax(x, 0), {0, 1, 0.2689414f, 1, 0, 0.7310586f});
  // A long masked row (vector path): only the two open positions share the mass.
  std::vector<float> row(40, -INFINITY);
  row[3] = row[33] = 2;
  std::vector<float> p = softmax(from_vector(row, {1, 40}), 1).to_vector();
  for (int k = 0; k < 40; ++k) BOOST_CHECK_EQUAL(p[k], (k == 3 || k == 33) ? 0.5f : 0.0f);
}

BOOST_AUTO_TEST_CASE(all_minus_infinity_row_is_nan_like_pytorch) {
  Tensor x = from_vector({-INFINITY, -INFINITY, 0, 1}, {2, 2});
  std::vector<float> y = softmax(x, 1).to_vector();
  BOOST_CHECK(std::isnan(y[0]) && std::isnan(y[1]));
  BOOST_CHECK(std::isfinite(y[2]) && std::isfinite(y[3]));
  std::vector<float> l = log_softmax(x, 1).to_vector();
  BOOST_CHECK(std::isnan(l[0]) && std::isnan(l[1]));
}

BOOST_AUTO_TEST_CASE(gradients_along_every_dim) {
  manual_seed(5);
  for (int64_t dim : {0, 1, 2}) {
    check_gradients([dim](auto& in) { return softmax(in[0], dim); }, {normal({3, 4, 5})});
    check_gradients([dim](auto& in) { return log_softmax(in[0], dim); }, {normal({3, 4, 5})});
  }
  // Rows long enough for the vectorized path.
  check_gradients([](auto& in) { return softmax(in[0], 1); }, {normal({2, 37})});
  check_gradients([](auto& in) { return log_softmax(in[0], 1); }, {normal({2, 37})});
}

BOOST_AUTO_TEST_CASE(gradient_composes_with_other_ops) {
  // d/dx sum(softmax(x) * t) for a one-hot t equals y_t * (onehot - y).
  Tensor x = from_vector({0.5f, -1, 2}, {1, 3}).set_requires_grad(true);
  Tensor y = softmax(x, 1);
  sum(mul(y, from_vector({0, 1, 0}, {1, 3}))).backward();
  std::vector<float> p = y.to_vector();
  check_values(x.grad(), {-p[1] * p[0], p[1] * (1 - p[1]), -p[1] * p[2]});
}

BOOST_AUTO_TEST_CASE(errors) {
  check_error([] { softmax(zeros({2, 3}), 2); }, "softmax: dim 2 out of range for a 2-d tensor");
  check_error([] { log_softmax(zeros({2, 3}), -3); }, "log_softmax: dim -3 out of range");
  check_error([] { softmax(arange(3, DType::i64), 0); }, "softmax: expects float32, got int64");
}
