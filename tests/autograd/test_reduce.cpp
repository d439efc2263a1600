// Reductions: sum, mean, var, max over given dims, with keepdim; sum_to.
#include <boost/test/unit_test.hpp>

#include "common/gradcheck.h"

using namespace ag;
using testing::check_error;
using testing::check_gradients;
using testing::check_values;

namespace {
// x[i, j, k] = 100 i + 10 j + k, shape [2, 3, 4]
Tensor grid() {
  std::vector<float> v;
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 3; ++j)
      for (int k = 0; k < 4; ++k) v.push_back(100 * i + 10 * j + k);
  return from_vector(v, {2, 3, 4});
}
}  // namespace

BOOST_AUTO_TEST_CASE(sum_over_dims) {
  Tensor x = grid();
  check_values(sum(x), {2 * 3 * (0 + 1 + 2 + 3) + 4 * 2 * (0 + 10 + 20) + 12 * 100});
  Tensor s1 = sum(x, {1});
  BOOST_CHECK(s1.shape() == (Shape{2, 4}));
  check_values(s1, {30, 33, 36, 39, 330, 333, 336, 339});
  BOOST_CHECK(sum(x, {1}, true).shape() == (Shape{2, 1, 4}));
  check_values(sum(x, {-1}), {6, 46, 86, 406, 446, 486});
  check_values(sum(x, {0, 2}), {412, 492, 572});  // non-adjacent dims
  check_values(sum(x, {0, 1}), {360, 366, 372, 378});
  BOOST_CHECK(sum(x, {0, 2}, true).shape() == (Shape{1, 3, 1}));
  check_error([&] { sum(x, {3}); }, "sum: dim 3 out of range for a 3-d tensor");
  check_error([&] { sum(x, {1, -2}); }, "sum: a dim is repeated");
}

BOOST_AUTO_TEST_CASE(sum_of_long_rows_and_tall_columns) {
  // Exercises the row, column and general kernels with threads.
  Tensor x = uniform({3, 5000, 7}, -1, 1);
  std::vector<float> v = x.to_vector();
  for (int64_t d : {0, 1, 2}) {
    std::vector<float> got = sum(x, {d}).to_vector();
    int64_t n[3] = {3, 5000, 7};
    std::vector<double> ref(got.size(), 0.0);
    for (int64_t i = 0; i < 3; ++i)
      for (int64_t j = 0; j < 5000; ++j)
        for (int64_t k = 0; k < 7; ++k) {
          int64_t o = d == 0 ? j * 7 + k : d == 1 ? i * 7 + k : i * 5000 + j;
          ref[o] += v[(i * 5000 + j) * 7 + k];
        }
    for (size_t i = 0; i < got.size(); ++i) BOOST_CHECK_SMALL(got[i] - ref[i], 2e-3 * (1 + n[d] / 1000.0));
  }
  Tensor tall = uniform({20000, 3}, 0, 1);
  std::vector<float> t = tall.to_vector();
  double c0 = 0;
  for (int i = 0; i < 20000; ++i) c0 += t[i * 3];
  BOOST_CHECK_CLOSE(sum(tall, {0}).at({0}), c0, 1e-3);
}

BOOST_AUTO_TEST_CASE(mean_var_max_values) {
  Tensor x = from_vector({1, 2, 3, 4, 6, 8}, {2, 3});
  check_values(mean(x), {4});
  check_values(mean(x, {1}), {2, 6});
  check_values(var(x, {1}), {1, 4});
  check_values(var(x, {1}, false), {2.0f / 3, 8.0f / 3});
  check_values(var(x, {}, true), {(9 + 4 + 1 + 0 + 4 + 16) / 5.0f});
  Tensor m = from_vector({1, 5, 5, -1, 0, -2}, {2, 3});
  check_values(max(m, 1), {5, 0});
  check_values(max(m, 0), {1, 5, 5});
  check_values(max(m), {5});
  BOOST_CHECK(argmax(m, 1).to_int_vector() == (std::vector<int64_t>{1, 1}));
  BOOST_CHECK(max(m, 1, true).shape() == (Shape{2, 1}));
  Tensor nan = from_vector({1, NAN, 3}, {3});
  BOOST_CHECK(std::isnan(max(nan).item()));
  check_error([] { var(ones({1}), {0}); }, "var: 1 elements are too few for an unbiased variance");
  check_error([] { max(zeros({2, 0}), 1); }, "max: dim 1 of shape [2,0] is empty");
}

BOOST_AUTO_TEST_CASE(reduction_gradients) {
  manual_seed(3);
  Shape s{3, 4, 5};
  for (std::vector<int64_t> dims : std::vector<std::vector<int64_t>>{{}, {0}, {1}, {2}, {0, 2}, {1, 2}}) {
    for (bool keep : {false, true}) {
      check_gradients([&](auto& in) { return sum(in[0], dims, keep); }, {normal(s)});
      check_gradients([&](auto& in) { return mean(in[0], dims, keep); }, {normal(s)});
      check_gradients([&](auto& in) { return var(in[0], dims, true, keep); }, {normal(s)});
    }
  }
  // Values 0.1 apart in random order: the max is unique and stays put under +-eps.
  std::vector<float> v(60);
  for (int i = 0; i < 60; ++i) v[i] = 0.1f * i;
  std::shuffle(v.begin(), v.end(), std::mt19937(5));
  for (int64_t d : {0, 1, 2})
    check_gradients([&](auto& in) { return max(in[0], d); }, {from_vector(v, s)});
  check_gradients([&](auto& in) { return max(in[0]); }, {from_vector(v, s)});
}

BOOST_AUTO_TEST_CASE(sum_to_reverses_broadcasting) {
  Tensor g = ones({2, 3, 4});
  check_values(sum_to(g, {3, 1}), {8, 8, 8});
  check_values(sum_to(g, {4}), {6, 6, 6, 6});
  check_values(sum_to(g, {}), {24});
  BOOST_CHECK(sum_to(g, {2, 3, 4}).same(g));
  check_error([&] { sum_to(ones({3}), {2, 3}); }, "sum_to: cannot reduce [3] to [2,3]");
}
