// SpecAugment: on all-ones input (time warp off) every zero lies in a fully masked frequency bin
// or frame, and the masks' counts, widths and starts stay in (and cover) their ranges; the time
// warp keeps shape and endpoints and moves no frame further than its window; seeding, the
// disabled config, short utterances and bad input.
#include <boost/test/unit_test.hpp>
#include <random>
#include <set>

#include "asr/data/specaugment.h"
#include "common/gradcheck.h"

using asr::SpecAugmentConfig;

namespace {

SpecAugmentConfig no_augmentation() {
  SpecAugmentConfig c;
  c.num_freq_masks = 0;
  c.num_time_masks = 0;
  c.time_warp = 0;
  return c;
}

ag::Tensor random_feats(int64_t t, int64_t f, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> n;
  std::vector<float> v(t * f);
  for (float& x : v) x = n(rng);
  return ag::from_vector(v, {t, f});
}

// Contiguous runs [start, start + width) of true values.
struct Run {
  int64_t start, width;
};
std::vector<Run> runs(const std::vector<bool>& flags) {
  std::vector<Run> r;
  for (int64_t i = 0; i < static_cast<int64_t>(flags.size()); ++i) {
    if (!flags[i]) continue;
    if (r.empty() || r.back().start + r.back().width != i) r.push_back({i, 0});
    ++r.back().width;
  }
  return r;
}

// Which bins and frames of an augmented all-ones [T, F] tensor are entirely zero; checks that
// every other value is still exactly 1 (no partial masks).
struct Masked {
  std::vector<bool> bins, frames;
};
Masked masked(const ag::Tensor& out) {
  int64_t t = out.size(0), f = out.size(1);
  const float* x = out.data();
  Masked m{std::vector<bool>(f, t > 0), std::vector<bool>(t, f > 0)};
  for (int64_t i = 0; i < t; ++i)
    for (int64_t j = 0; j < f; ++j)
      if (x[i * f + j] != 0) m.bins[j] = false, m.frames[i] = false;
  for (int64_t i = 0; i < t; ++i)
    for (int64_t j = 0; j < f; ++j) {
      float expected = m.bins[j] || m.frames[i] ? 0.0f : 1.0f;
      if (x[i * f + j] != expected) {
        BOOST_ERROR("value " << x[i * f + j] << " at [" << i << "," << j << "] outside a mask");
        return m;
      }
    }
  return m;
}

// Over many seeds, one mask along an axis: one run (or none), every width in [0, max_width]
// seen, none wider, and both ends of the axis reached.
void check_single_mask_ranges(bool along_freq, int64_t t, int64_t f, int64_t max_width,
                              const SpecAugmentConfig& c) {
  std::set<int64_t> widths;
  bool first = false, last = false;
  int64_t size = along_freq ? f : t;
  for (uint64_t seed = 0; seed < 3000; ++seed) {
    std::mt19937_64 rng(seed);
    Masked m = masked(asr::spec_augment(ag::ones({t, f}), c, rng));
    std::vector<Run> r = runs(along_freq ? m.bins : m.frames);
    BOOST_REQUIRE(r.size() <= 1);
    BOOST_REQUIRE(runs(along_freq ? m.frames : m.bins).empty());
    int64_t width = r.empty() ? 0 : r[0].width;
    BOOST_REQUIRE_MESSAGE(width <= max_width, "width " << width << " > " << max_width);
    widths.insert(width);
    if (!r.empty()) first |= r[0].start == 0, last |= r[0].start + width == size;
  }
  BOOST_TEST(widths.size() == static_cast<size_t>(max_width + 1));  // 0..max_width all drawn
  BOOST_TEST(first);
  BOOST_TEST(last);
}

}  // namespace

BOOST_AUTO_TEST_CASE(defaults_are_espnet_librispeech100) {
  SpecAugmentConfig c;
  BOOST_TEST(c.enabled);
  BOOST_TEST(c.num_freq_masks == 2);
  BOOST_TEST(c.freq_mask_width == 27);
  BOOST_TEST(c.num_time_masks == 5);
  BOOST_TEST(c.time_mask_ratio == 0.05f);
  BOOST_TEST(c.time_warp == 5);
}

BOOST_AUTO_TEST_CASE(frequency_mask_width_is_uniform_in_zero_to_max) {
  SpecAugmentConfig c = no_augmentation();
  c.num_freq_masks = 1;
  check_single_mask_ranges(true, 20, 80, 27, c);
}

BOOST_AUTO_TEST_CASE(time_mask_width_is_uniform_in_zero_to_ratio_times_length) {
  SpecAugmentConfig c = no_augmentation();
  c.num_time_masks = 1;
  check_single_mask_ranges(false, 200, 8, 10, c);  // floor(0.05 * 200)
  c.time_mask_ratio = 0.7f;                        // 0.7f * 10 is 6.99999988: still 7 frames
  check_single_mask_ranges(false, 10, 4, 7, c);
}

BOOST_AUTO_TEST_CASE(default_masks_stay_within_their_counts_and_widths) {
  SpecAugmentConfig c;
  c.time_warp = 0;
  int64_t t = 300, f = 80;  // widest time mask: 15 frames
  size_t some_masked = 0;
  for (uint64_t seed = 0; seed < 300; ++seed) {
    std::mt19937_64 rng(seed);
    Masked m = masked(asr::spec_augment(ag::ones({t, f}), c, rng));
    int64_t bins = 0, frames = 0;
    for (bool b : m.bins) bins += b;
    for (bool b : m.frames) frames += b;
    BOOST_REQUIRE(runs(m.bins).size() <= 2);
    BOOST_REQUIRE(bins <= 2 * 27);
    BOOST_REQUIRE(runs(m.frames).size() <= 5);
    BOOST_REQUIRE(frames <= 5 * 15);
    some_masked += bins > 0 && frames > 0;
  }
  BOOST_TEST(some_masked > 250u);
}

BOOST_AUTO_TEST_CASE(same_seed_same_result_other_seeds_differ) {
  ag::Tensor x = random_feats(120, 80, 1);
  SpecAugmentConfig c;
  std::mt19937_64 a(7), b(7), other(8);
  ag::Tensor ya = asr::spec_augment(x, c, a), yb = asr::spec_augment(x, c, b);
  BOOST_TEST(ya.to_vector() == yb.to_vector(), boost::test_tools::per_element());
  BOOST_TEST(testing::max_abs_diff(ya, asr::spec_augment(x, c, other)) > 0.1f);
  // The generator advances: the next draw from the same generator differs.
  BOOST_TEST(testing::max_abs_diff(ya, asr::spec_augment(x, c, a)) > 0.1f);
}

BOOST_AUTO_TEST_CASE(input_is_untouched_and_disabled_is_identity) {
  ag::Tensor x = random_feats(60, 80, 2);
  std::vector<float> before = x.to_vector();
  std::mt19937_64 rng(3);
  ag::Tensor y = asr::spec_augment(x, SpecAugmentConfig(), rng);
  BOOST_TEST(x.to_vector() == before, boost::test_tools::per_element());
  BOOST_TEST(!y.same(x));

  SpecAugmentConfig off;
  off.enabled = false;
  ag::Tensor z = asr::spec_augment(x, off, rng);
  BOOST_TEST(z.to_vector() == before, boost::test_tools::per_element());
  BOOST_TEST(!z.same(x));
  z.data()[0] = 42;  // a copy
  BOOST_TEST(x.data()[0] == before[0]);
  ag::Tensor w = asr::spec_augment(x, no_augmentation(), rng);
  BOOST_TEST(w.to_vector() == before, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(time_warp_keeps_shape_endpoints_and_order) {
  // Each frame holds its own index: after a warp, frame t holds the source time it came from.
  int64_t t = 40, f = 3;
  std::vector<float> ramp(t * f);
  for (int64_t i = 0; i < t * f; ++i) ramp[i] = static_cast<float>(i / f);
  ag::Tensor x = ag::from_vector(ramp, {t, f});
  SpecAugmentConfig c = no_augmentation();
  c.time_warp = 5;
  size_t warped = 0;
  for (uint64_t seed = 0; seed < 200; ++seed) {
    std::mt19937_64 rng(seed);
    ag::Tensor y = asr::spec_augment(x, c, rng);
    BOOST_REQUIRE(y.shape() == x.shape());
    std::vector<float> v = y.to_vector();
    BOOST_REQUIRE(v[0] == 0.0f);
    BOOST_REQUIRE(v[(t - 1) * f] == static_cast<float>(t - 1));
    bool moved = false;
    for (int64_t i = 0; i < t; ++i) {
      float src = v[i * f];
      for (int64_t j = 1; j < f; ++j) BOOST_REQUIRE(v[i * f + j] == src);  // whole frames move
      if (i > 0) BOOST_REQUIRE(src > v[(i - 1) * f]);                      // order kept
      BOOST_REQUIRE(std::fabs(src - static_cast<float>(i)) <= 5.0f);       // within the window
      moved |= std::fabs(src - static_cast<float>(i)) > 1e-4f;
    }
    warped += moved;
  }
  BOOST_TEST(warped > 150u);  // identity only when the warp point lands on the center
}

BOOST_AUTO_TEST_CASE(short_utterances_and_narrow_features) {
  SpecAugmentConfig c;
  c.time_warp = 0;
  c.time_mask_ratio = 1.0f;
  for (int64_t t : {0, 1, 2, 5, 11})
    for (int64_t f : {1, 10, 80}) {
      BOOST_TEST_CONTEXT("T " << t << " F " << f) {
        for (uint64_t seed = 0; seed < 20; ++seed) {
          std::mt19937_64 rng(seed);
          ag::Tensor y = asr::spec_augment(ag::ones({t, f}), c, rng);
          BOOST_REQUIRE(y.shape() == (ag::Shape{t, f}));
          masked(y);  // zeros only in whole bins or frames
        }
      }
    }
  // Too short to warp (T < 2 * window + 3): left alone; 13 frames are warped.
  SpecAugmentConfig warp = no_augmentation();
  warp.time_warp = 5;
  ag::Tensor x = random_feats(12, 4, 5);
  std::mt19937_64 rng(1);
  BOOST_TEST(asr::spec_augment(x, warp, rng).to_vector() == x.to_vector(),
             boost::test_tools::per_element());
  bool changed = false;
  for (uint64_t seed = 0; seed < 10; ++seed) {
    std::mt19937_64 r(seed);
    ag::Tensor y = random_feats(13, 4, 5);
    changed |= testing::max_abs_diff(asr::spec_augment(y, warp, r), y) > 0;
  }
  BOOST_TEST(changed);
}

BOOST_AUTO_TEST_CASE(bad_input_is_refused) {
  std::mt19937_64 rng(0);
  testing::check_error([&] { asr::spec_augment(ag::ones({80}), SpecAugmentConfig(), rng); },
                       "[T, F], got [80]");
  testing::check_error(
      [&] { asr::spec_augment(ag::zeros({4, 80}, ag::DType::i64), SpecAugmentConfig(), rng); },
      "float32");
  SpecAugmentConfig c;
  c.num_time_masks = -1;
  testing::check_error([&] { asr::spec_augment(ag::ones({4, 80}), c, rng); }, "negative");
  c = SpecAugmentConfig();
  c.time_mask_ratio = 1.5f;
  testing::check_error([&] { asr::spec_augment(ag::ones({4, 80}), c, rng); }, "time_mask_ratio");
}
