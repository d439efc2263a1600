// CTC loss against brute-force enumeration of all alignments, finite differences, and the
// infeasible / padded cases.
#include <boost/test/unit_test.hpp>

#include <cmath>

#include "common/gradcheck.h"

using namespace ag;
using testing::check_error;

namespace {
// -log p(target | logits [T, V]) by summing the probability of every path of length T whose
// collapse (merge repeats, drop blanks) is the target.
double brute_force_nll(const std::vector<float>& logits, int64_t T, int64_t V,
                       const std::vector<int64_t>& target) {
  std::vector<double> logp(T * V);
  for (int64_t t = 0; t < T; ++t) {
    double m = -1e30, s = 0;
    for (int64_t k = 0; k < V; ++k) m = std::max(m, double(logits[t * V + k]));
    for (int64_t k = 0; k < V; ++k) s += std::exp(logits[t * V + k] - m);
    for (int64_t k = 0; k < V; ++k) logp[t * V + k] = logits[t * V + k] - m - std::log(s);
  }
  double total = 0;
  std::vector<int64_t> path(T, 0);
  for (int64_t code = 0; code < static_cast<int64_t>(std::pow(V, T)); ++code) {
    int64_t c = code;
    for (int64_t t = 0; t < T; ++t) path[t] = c % V, c /= V;
    std::vector<int64_t> collapsed;
    for (int64_t t = 0; t < T; ++t)
      if (path[t] != 0 && (t == 0 || path[t] != path[t - 1])) collapsed.push_back(path[t]);
    if (collapsed != target) continue;
    double lp = 0;
    for (int64_t t = 0; t < T; ++t) lp += logp[t * V + path[t]];
    total += std::exp(lp);
  }
  return -std::log(total);
}
}  // namespace

BOOST_AUTO_TEST_CASE(matches_brute_force_enumeration) {
  manual_seed(11);
  const int64_t T = 6, V = 4;
  std::vector<std::vector<int64_t>> targets = {{1}, {1, 2}, {2, 2}, {1, 1, 2}, {3, 1, 3}, {}};
  for (const auto& target : targets) {
    Tensor logits = normal({1, T, V}, 0, 2);
    CtcResult r = ctc_loss(logits, {T}, {target});
    BOOST_REQUIRE(r.feasible[0]);
    double expect = brute_force_nll(logits.to_vector(), T, V, target);
    BOOST_CHECK_CLOSE(r.nll.item(), expect, 1e-3);
  }
}

BOOST_AUTO_TEST_CASE(batch_with_padding_matches_single_utterances) {
  manual_seed(12);
  const int64_t T = 7, V = 5;
  Tensor logits = normal({3, T, V});
  std::vector<int64_t> lengths = {7, 4, 5};
  std::vector<std::vector<int64_t>> targets = {{1, 2, 3}, {4}, {2, 2}};
  CtcResult r = ctc_loss(logits, lengths, targets);
  std::vector<float> all = logits.to_vector();
  for (int b = 0; b < 3; ++b) {
    std::vector<float> one(all.begin() + b * T * V, all.begin() + b * T * V + lengths[b] * V);
    BOOST_CHECK_CLOSE(r.nll.at({b}), brute_force_nll(one, lengths[b], V, targets[b]), 1e-3);
  }
}

BOOST_AUTO_TEST_CASE(gradient_matches_finite_differences) {
  manual_seed(13);
  std::vector<int64_t> lengths = {6, 4};
  std::vector<std::vector<int64_t>> targets = {{1, 2, 2}, {3}};
  testing::check_gradients(
      [&](const std::vector<Tensor>& in) { return ctc_loss(in[0], lengths, targets).nll; },
      {normal({2, 6, 4})});
}

BOOST_AUTO_TEST_CASE(frames_past_the_length_get_no_gradient) {
  Tensor logits = normal({1, 5, 3}).set_requires_grad(true);
  sum(ctc_loss(logits, {3}, {{1}}).nll).backward();
  std::vector<float> g = logits.grad().to_vector();
  for (int i = 9; i < 15; ++i) BOOST_CHECK_EQUAL(g[i], 0.0f);
  // Each valid frame's gradient (softmax - posterior) sums to zero over the vocabulary.
  for (int t = 0; t < 3; ++t) BOOST_CHECK_SMALL(g[t * 3] + g[t * 3 + 1] + g[t * 3 + 2], 1e-5f);
}

BOOST_AUTO_TEST_CASE(infeasible_targets_are_flagged_not_infinite) {
  Tensor logits = normal({3, 4, 3}).set_requires_grad(true);
  // 5 labels in 4 frames; "1 1" needs 3 frames but has 2; "1 2" fits in 2.
  CtcResult r = ctc_loss(logits, {4, 2, 2}, {{1, 2, 1, 2, 1}, {1, 1}, {1, 2}});
  BOOST_CHECK(!r.feasible[0]);
  BOOST_CHECK(!r.feasible[1]);
  BOOST_CHECK(r.feasible[2]);
  BOOST_CHECK_EQUAL(r.nll.at({0}), 0.0f);
  BOOST_CHECK(std::isfinite(r.nll.at({2})) && r.nll.at({2}) > 0);
  sum(r.nll).backward();
  std::vector<float> g = logits.grad().to_vector();
  for (int i = 0; i < 24; ++i) BOOST_CHECK_EQUAL(g[i], 0.0f);
}

BOOST_AUTO_TEST_CASE(errors) {
  check_error([] { ctc_loss(zeros({2, 3}), {3}, {{1}}); }, "ctc_loss: logits [2,3] are not [B, T, V]");
  check_error([] { ctc_loss(zeros({1, 3, 4}), {3}, {{0}}); }, "label 0 of utterance 0 outside [1, 4)");
  check_error([] { ctc_loss(zeros({1, 3, 4}), {5}, {{1}}); }, "input length 5 of utterance 0 outside [0, 3]");
  check_error([] { ctc_loss(zeros({2, 3, 4}), {3}, {{1}}); }, "1 input lengths and 1 targets for a batch of 2");
}
