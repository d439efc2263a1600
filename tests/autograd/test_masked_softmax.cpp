// masked_softmax (attention weights in one op): the same values and gradients as the
// composition it replaces (masked_fill, softmax, masked_fill, dropout), both mask shapes,
// fully masked rows, dropout redrawn in backward from the seed, and only the softmax output
// kept for backward.
#include <boost/test/unit_test.hpp>

#include <limits>

#include "autograd/allocator.h"
#include "common/gradcheck.h"

using namespace ag;
using testing::check_error;
using testing::check_gradients;
using testing::max_abs_diff;

namespace {

// keep [B, mask_t, S]: key s of batch b (row i) allowed when s < lengths[b] (and s <= i + 1
// for the [B, T, S] shape); batch 1 row 0 allows nothing when fully_masked_row.
Tensor keep_mask(int64_t B, int64_t mask_t, int64_t S, bool fully_masked_row) {
  std::vector<bool> keep;
  for (int64_t b = 0; b < B; ++b)
    for (int64_t i = 0; i < mask_t; ++i)
      for (int64_t s = 0; s < S; ++s) {
        bool k = s < S - b && (mask_t == 1 || s <= i + 1);
        if (fully_masked_row && b == 1 && i == 0) k = false;
        keep.push_back(k);
      }
  return from_mask(keep, {B, mask_t, S});
}

// The composition masked_softmax fuses, with dropout drawn from `gen`.
Tensor composed(const Tensor& scores, const Tensor& keep, float p, Generator& gen) {
  Tensor out = logical_not(unsqueeze(keep, 1));  // [B, 1, mask_t, S], 1 = masked
  Tensor w = softmax(masked_fill(scores, out, std::numeric_limits<float>::lowest()), -1);
  return dropout(masked_fill(w, out, 0.0f), p, p > 0, gen);
}

}  // namespace

BOOST_AUTO_TEST_CASE(same_values_and_gradients_as_the_composition) {
  for (int64_t mask_t : {1, 5})
    for (float p : {0.0f, 0.3f}) {
      manual_seed(21);
      Tensor scores = normal({2, 3, 5, 7}, 0.0f, 2.0f).set_requires_grad(true);
      Tensor keep = keep_mask(2, mask_t, 7, mask_t == 5);
      Tensor weights = normal({2, 3, 5, 7});
      Generator g1(9), g2(9);
      Tensor fused = masked_softmax(scores, keep, p, p > 0, g1);
      sum(mul(fused, weights)).backward();
      Tensor fused_grad = scores.grad();
      scores.set_grad(Tensor());
      Tensor ref = composed(scores, keep, p, g2);
      sum(mul(ref, weights)).backward();
      BOOST_TEST_CONTEXT("mask_t " << mask_t << ", p " << p) {
        BOOST_CHECK_LE(max_abs_diff(fused, ref), 1e-6f);
        BOOST_CHECK_LE(max_abs_diff(fused_grad, scores.grad()), 1e-6f);
      }
    }
}

BOOST_AUTO_TEST_CASE(masked_keys_and_fully_masked_rows_get_exactly_zero) {
  manual_seed(22);
  Tensor y = masked_softmax(normal({2, 2, 5, 6}), keep_mask(2, 5, 6, true), 0.0f, false);
  Tensor keep = keep_mask(2, 5, 6, true);
  for (int64_t b = 0; b < 2; ++b)
    for (int64_t h = 0; h < 2; ++h)
      for (int64_t i = 0; i < 5; ++i) {
        double row = 0;
        bool any = false;
        for (int64_t s = 0; s < 6; ++s) {
          const bool k = keep.data_as<uint8_t>()[(b * 5 + i) * 6 + s] != 0;
          const float v = y.at({b, h, i, s});
          if (!k) BOOST_CHECK_EQUAL(v, 0.0f);
          row += v;
          any |= k;
        }
        BOOST_CHECK_CLOSE(row, any ? 1.0 : 0.0, any ? 1e-4 : 0.0);
      }
}

BOOST_AUTO_TEST_CASE(gradients_match_finite_differences_with_dropout_active) {
  manual_seed(23);
  Tensor keep = keep_mask(2, 1, 6, false);
  // The same seed for every evaluation, so that the finite differences see one mask.
  check_gradients(
      [&](const std::vector<Tensor>& in) {
        Generator gen(4);
        Tensor w = masked_softmax(in[0], keep, 0.4f, true, gen);
        BOOST_REQUIRE(max_abs_diff(w, masked_softmax(in[0], keep, 0.0f, false)) > 0.0f);
        return w;
      },
      {normal({2, 2, 3, 6})});
}

BOOST_AUTO_TEST_CASE(backward_keeps_only_the_softmax_output) {
  manual_seed(24);
  const int64_t B = 2, H = 4, T = 64, S = 64;
  const int64_t bytes = B * H * T * S * static_cast<int64_t>(sizeof(float));
  Tensor scores = normal({B, H, T, S}).set_requires_grad(true);
  Tensor keep = keep_mask(B, 1, S, false);
  const int64_t base = allocator_stats(Device::cpu).bytes_in_use;
  Tensor w = masked_softmax(mul(scores, 1.0f), keep, 0.1f, true);  // the product is freed
  const int64_t held = allocator_stats(Device::cpu).bytes_in_use - base;
  BOOST_TEST_MESSAGE("held after forward: " << held << " bytes, scores " << bytes << " each");
  BOOST_CHECK_GE(held, 2 * bytes);  // the result and the softmax output it saved
  BOOST_CHECK_LT(held, 3 * bytes);  // nothing else score-sized: no mask, no masked copy
  sum(w).backward();
  BOOST_CHECK(scores.grad().defined());
}

BOOST_AUTO_TEST_CASE(bad_masks_are_refused) {
  Tensor scores = normal({2, 1, 3, 4});
  check_error([&] { masked_softmax(scores, keep_mask(2, 2, 4, false), 0.0f, false); },
              "is not uint8 [2, 1 or 3, 4]");
  check_error([&] { masked_softmax(normal({2, 3, 4}), Tensor(), 0.0f, false); },
              "are not [B, H, T, S]");
  check_error([&] { masked_softmax(scores, Tensor(), 1.5f, true); }, "outside [0, 1]");
}
