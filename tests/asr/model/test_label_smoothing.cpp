// The attention decoder's loss against hand-computed KL divergences and cross entropy, its
// gradient, padding, accuracy and errors.
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <cmath>
#include <vector>

#include "asr/model/label_smoothing.h"
#include "autograd/ops.h"
#include "common/gradcheck.h"

using namespace ag;
using testing::check_error;

namespace {
// sum over positions of sum_k t_k (log t_k - log p_k), in double.
double reference(const std::vector<float>& logits, int64_t B, int64_t L, int64_t V,
                 const std::vector<std::vector<int64_t>>& targets, double smoothing) {
  double total = 0;
  for (int64_t b = 0; b < B; ++b)
    for (size_t i = 0; i < targets[b].size(); ++i) {
      const float* z = logits.data() + (b * L + static_cast<int64_t>(i)) * V;
      double top = *std::max_element(z, z + V), norm = 0;
      for (int64_t k = 0; k < V; ++k) norm += std::exp(z[k] - top);
      for (int64_t k = 0; k < V; ++k) {
        const double t = k == targets[b][i] ? 1 - smoothing : smoothing / (V - 1);
        if (t > 0) total += t * (std::log(t) - (z[k] - top - std::log(norm)));
      }
    }
  return total;
}
}  // namespace

BOOST_AUTO_TEST_CASE(matches_the_kl_divergence_and_cross_entropy) {
  manual_seed(51);
  Tensor logits = normal({2, 3, 5});
  const std::vector<std::vector<int64_t>> targets{{1, 4, 0}, {2, 3}};  // row 1: one padded
  for (double smoothing : {0.0, 0.1, 0.3}) {
    const float got =
        asr::label_smoothing_loss(logits, targets, static_cast<float>(smoothing)).item();
    BOOST_CHECK_CLOSE(got, reference(logits.to_vector(), 2, 3, 5, targets, smoothing), 1e-3);
  }
  // The padded position's logits do not matter.
  std::vector<float> v = logits.to_vector();
  for (int64_t k = 0; k < 5; ++k) v[(1 * 3 + 2) * 5 + k] = 50.0f;
  BOOST_CHECK_CLOSE(asr::label_smoothing_loss(from_vector(v, {2, 3, 5}), targets, 0.1f).item(),
                    asr::label_smoothing_loss(logits, targets, 0.1f).item(), 1e-4);
}

BOOST_AUTO_TEST_CASE(gradient_matches_finite_differences) {
  manual_seed(52);
  const std::vector<std::vector<int64_t>> targets{{1, 4}, {2}};
  testing::check_gradients(
      [&](const std::vector<Tensor>& in) {
        return asr::label_smoothing_loss(in[0], targets, 0.1f);
      },
      {normal({2, 2, 5})});
}

BOOST_AUTO_TEST_CASE(accuracy_counts_real_positions) {
  // argmax per position: row 0 -> 1, 0; row 1 -> 2, (padded) 2.
  Tensor logits = from_vector({0, 5, 0, 5, 0, 0, 0, 0, 5, 0, 0, 5}, {2, 2, 3});
  BOOST_CHECK_CLOSE(asr::token_accuracy(logits, {{1, 1}, {2}}), 2.0 / 3.0, 1e-9);
}

BOOST_AUTO_TEST_CASE(bad_targets_are_refused) {
  Tensor logits = normal({1, 2, 4});
  check_error([&] { asr::label_smoothing_loss(logits, {{1, 2, 3}}, 0.1f); }, "more than the 2");
  check_error([&] { asr::label_smoothing_loss(logits, {{4}}, 0.1f); }, "outside [0, 4)");
  check_error([&] { asr::label_smoothing_loss(logits, {{1}}, 1.0f); }, "smoothing 1");
  check_error([&] { asr::label_smoothing_loss(logits, {{1}, {2}}, 0.1f); }, "for 2 target");
  check_error([&] { asr::label_smoothing_loss(normal({1, 1, 1}), {{0}}, 0.1f); },
              "at least 2");
}
