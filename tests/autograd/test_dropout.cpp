// dropout: identity cases, seeded determinism (across thread counts too), mask statistics,
// the backward reusing the forward's mask, errors.
#include <boost/test/unit_test.hpp>
#include <omp.h>

#include <cmath>

#include "common/gradcheck.h"

using namespace ag;
using testing::check_error;
using testing::check_gradients;
using testing::check_values;

BOOST_AUTO_TEST_CASE(identity_in_eval_and_for_p_zero) {
  Tensor x = normal({4, 5});
  BOOST_CHECK(dropout(x, 0.5f, false).same(x));
  BOOST_CHECK(dropout(x, 0.0f, true).same(x));
  Generator gen(1);
  dropout(x, 0.5f, false, gen);  // eval draws nothing from the generator
  Generator fresh(1);
  BOOST_CHECK_EQUAL(gen.engine()(), fresh.engine()());
}

BOOST_AUTO_TEST_CASE(p_one_gives_zeros_and_zero_gradient) {
  Tensor x = normal({3, 7}).set_requires_grad(true);
  Tensor y = dropout(x, 1.0f, true);
  check_values(y, std::vector<float>(21, 0.0f));
  sum(y).backward();
  check_values(x.grad(), std::vector<float>(21, 0.0f));
}

BOOST_AUTO_TEST_CASE(same_seed_same_mask) {
  Tensor x = uniform({1000}, 1, 2);
  Generator a(42), b(42), c(43);
  std::vector<float> ya = dropout(x, 0.3f, true, a).to_vector();
  BOOST_CHECK(ya == dropout(x, 0.3f, true, b).to_vector());
  BOOST_CHECK(ya != dropout(x, 0.3f, true, c).to_vector());
  // The generator advances: the next call draws a different mask.
  BOOST_CHECK(ya != dropout(x, 0.3f, true, a).to_vector());
  // manual_seed makes the default generator repeatable.
  manual_seed(7);
  std::vector<float> d1 = dropout(x, 0.3f, true).to_vector();
  manual_seed(7);
  BOOST_CHECK(d1 == dropout(x, 0.3f, true).to_vector());
}

BOOST_AUTO_TEST_CASE(mask_does_not_depend_on_thread_count) {
  Tensor x = ones({300000});
  const int threads = omp_get_max_threads();
  omp_set_num_threads(1);
  Generator a(5);
  std::vector<float> serial = dropout(x, 0.5f, true, a).to_vector();
  omp_set_num_threads(std::max(threads, 2));
  Generator b(5);
  BOOST_CHECK(serial == dropout(x, 0.5f, true, b).to_vector());
  omp_set_num_threads(threads);
}

BOOST_AUTO_TEST_CASE(mask_statistics) {
  const int64_t n = 200000;
  Tensor x = ones({n});
  for (float p : {0.1f, 0.3f, 0.5f, 0.9f}) {
    Generator gen(11);
    std::vector<float> y = dropout(x, p, true, gen).to_vector();
    int64_t kept = 0, both = 0;
    double total = 0;
    for (int64_t i = 0; i < n; ++i) {
      if (y[i] != 0) {
        ++kept;
        BOOST_REQUIRE_CLOSE(y[i], 1.0f / (1.0f - p), 1e-4);  // kept values are scaled
        if (i > 0 && y[i - 1] != 0) ++both;
      }
      total += y[i];
    }
    // Binomial standard deviation sqrt(p (1 - p) / n) is at most 0.0012: allow ~8 of them.
    const double keep = 1.0 - p;
    BOOST_CHECK_SMALL(static_cast<double>(kept) / n - keep, 0.01);
    BOOST_CHECK_SMALL(total / n - 1.0, 0.01 / keep);  // the expectation is preserved
    // Neighbours are independent: both kept with probability keep^2.
    BOOST_CHECK_SMALL(static_cast<double>(both) / (n - 1) - keep * keep, 0.01);
  }
}

BOOST_AUTO_TEST_CASE(backward_multiplies_by_the_same_mask) {
  Tensor x = uniform({50, 40}, 1, 2).set_requires_grad(true);
  Tensor g = normal({50, 40});
  Tensor y = dropout(x, 0.4f, true);
  y.backward(g);
  std::vector<float> xv = x.to_vector(), yv = y.to_vector(), gv = g.to_vector();
  std::vector<float> expected;
  for (size_t i = 0; i < xv.size(); ++i) expected.push_back(yv[i] != 0 ? gv[i] / 0.6f : 0.0f);
  check_values(x.grad(), expected);
  // Finite differences through a fixed mask (a fresh generator per call).
  check_gradients([](auto& in) {
    Generator gen(3);
    return dropout(in[0], 0.4f, true, gen);
  }, {normal({6, 7})});
}

BOOST_AUTO_TEST_CASE(errors) {
  check_error([] { dropout(ones({2, 3}), 1.5f, true); },
              "dropout: p 1.5 outside [0, 1] for input [2,3]");
  check_error([] { dropout(ones({2}), -0.1f, false); }, "dropout: p -0.1 outside [0, 1]");
  check_error([] { dropout(arange(3, DType::i64), 0.5f, true); },
              "dropout: expects float32, got int64");
}
