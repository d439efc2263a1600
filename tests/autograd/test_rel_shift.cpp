// rel_shift: forward against a naive loop and against ESPnet's pad-and-reshape formulation,
// gradients by finite differences, windows wider than 2t-1, error messages.
#include <boost/test/unit_test.hpp>

#include "common/gradcheck.h"

using namespace ag;
using testing::check_error;
using testing::check_gradients;
using testing::max_abs_diff;

namespace {

// ESPnet's rel_shift ("latest"): pad a zero column on the left, view [.., p+1, t], drop the
// first row, view back and keep the first t columns. x [n, t, 2t-1] -> [n, t, t].
Tensor espnet_rel_shift(const Tensor& x) {
  const int64_t n = x.size(0), t = x.size(1), p = x.size(2);
  Tensor padded = pad(x, {1, 0});                                  // [n, t, p+1]
  Tensor rows = narrow(reshape(padded, {n, p + 1, t}), 1, 1, p);  // [n, p, t]
  return narrow(reshape(rows, {n, t, p}), 2, 0, p / 2 + 1);       // [n, t, t]
}

}  // namespace

BOOST_AUTO_TEST_CASE(rel_shift_matches_naive_loop_and_espnet) {
  manual_seed(31);
  for (int64_t t : {1, 2, 5, 9}) {
    Tensor x = normal({3, t, 2 * t - 1});
    Tensor y = rel_shift(x);
    BOOST_REQUIRE(y.shape() == (Shape{3, t, t}));
    for (int64_t n = 0; n < 3; ++n)
      for (int64_t i = 0; i < t; ++i)
        for (int64_t j = 0; j < t; ++j)
          BOOST_CHECK_EQUAL(y.at({n, i, j}), x.at({n, i, t - 1 - i + j}));
    BOOST_CHECK_EQUAL(max_abs_diff(y, espnet_rel_shift(x)), 0.0f);
  }
}

BOOST_AUTO_TEST_CASE(rel_shift_hand_values) {
  // t = 2, positions (1, 0, -1): query 0 sees keys at 0, +1; query 1 at -1, 0.
  Tensor x = from_vector({10, 11, 12, 20, 21, 22}, {1, 2, 3});
  testing::check_values(rel_shift(x), {11, 12, 20, 21});
}

BOOST_AUTO_TEST_CASE(rel_shift_wider_window_and_leading_dims) {
  manual_seed(32);
  Tensor x = normal({2, 3, 4, 9});  // t = 4, p = 9 -> s = 6
  Tensor y = rel_shift(x);
  BOOST_REQUIRE(y.shape() == (Shape{2, 3, 4, 6}));
  for (int64_t i = 0; i < 4; ++i)
    for (int64_t j = 0; j < 6; ++j) BOOST_CHECK_EQUAL(y.at({1, 2, i, j}), x.at({1, 2, i, 3 - i + j}));
}

BOOST_AUTO_TEST_CASE(rel_shift_gradients) {
  manual_seed(33);
  check_gradients([](auto& in) { return rel_shift(in[0]); }, {normal({2, 3, 5, 9})});
  check_gradients([](auto& in) { return rel_shift(in[0]); }, {normal({4, 7})});
  // Columns no query reads get exactly zero gradient.
  Tensor x = normal({1, 3, 5}).set_requires_grad(true);
  sum(rel_shift(x)).backward();
  testing::check_values(x.grad(), {0, 0, 1, 1, 1, 0, 1, 1, 1, 0, 1, 1, 1, 0, 0});
}

BOOST_AUTO_TEST_CASE(rel_shift_errors) {
  check_error([] { rel_shift(zeros({4, 3})); }, "rel_shift: input [4,3] has fewer relative");
  check_error([] { rel_shift(zeros({4})); }, "needs at least 2 dims");
  check_error([] { rel_shift(zeros({2, 3}, DType::i64)); }, "rel_shift");
}
