// Length bucketing, the frame budget, skipping by length, per-epoch shuffling, padding.
#include <algorithm>
#include <boost/test/unit_test.hpp>
#include <random>
#include <set>

#include "asr/data/batching.h"

using namespace asr;

namespace {

std::vector<std::string> names(size_t n) {
  std::vector<std::string> k;
  for (size_t i = 0; i < n; ++i) k.push_back(std::to_string(i));
  return k;
}

}  // namespace

BOOST_AUTO_TEST_CASE(greedy_buckets_by_length) {
  // Sorted: 3(2) 1(3) 0(5) 4(7) 2(8). 3*5 = 15 fits 16, 4*7 does not; 2*8 = 16 fits.
  std::vector<int64_t> frames = {5, 3, 8, 2, 7};
  SkipCounts skips;
  auto batches = make_batches(frames, names(5), {16, 0, 100}, skips);
  std::vector<std::vector<size_t>> want = {{3, 1, 0}, {4, 2}};
  BOOST_CHECK(batches == want);
  BOOST_CHECK_EQUAL(skips.total(), 0);
}

BOOST_AUTO_TEST_CASE(budget_holds_and_every_utterance_appears_once) {
  std::mt19937_64 rng(7);
  std::vector<int64_t> frames(2000);
  for (int64_t& f : frames) f = 1 + static_cast<int64_t>(rng() % 3000);
  BatchingOptions o{20000, 100, 2500};
  SkipCounts skips;
  auto batches = make_batches(frames, names(frames.size()), o, skips);
  int64_t short_ = std::count_if(frames.begin(), frames.end(), [](int64_t f) { return f < 100; });
  int64_t long_ = std::count_if(frames.begin(), frames.end(), [](int64_t f) { return f > 2500; });
  BOOST_CHECK_GT(short_, 0);
  BOOST_CHECK_GT(long_, 0);
  BOOST_CHECK_EQUAL(skips.count(SkipReason::below_min_frames), short_);
  BOOST_CHECK_EQUAL(skips.count(SkipReason::above_max_frames), long_);
  std::multiset<size_t> seen;
  int64_t prev_max = 0, padded = 0, real = 0;
  for (const auto& b : batches) {
    BOOST_REQUIRE(!b.empty());
    int64_t max_t = 0;
    for (size_t i : b) {
      seen.insert(i);
      max_t = std::max(max_t, frames[i]);
      real += frames[i];
      BOOST_CHECK(frames[i] >= 100 && frames[i] <= 2500);
    }
    BOOST_CHECK_LE(static_cast<int64_t>(b.size()) * max_t, o.batch_frames);
    BOOST_CHECK_GE(frames[b.front()], prev_max);  // buckets follow length order
    prev_max = max_t;
    padded += static_cast<int64_t>(b.size()) * max_t;
  }
  BOOST_CHECK_EQUAL(seen.size(), frames.size() - short_ - long_);
  BOOST_CHECK(std::adjacent_find(seen.begin(), seen.end()) == seen.end());
  BOOST_CHECK_GT(static_cast<double>(real) / padded, 0.95);  // sorting keeps padding small
  BOOST_CHECK(batches == make_batches(frames, names(frames.size()), o, skips));  // deterministic
}

BOOST_AUTO_TEST_CASE(longer_than_the_budget_goes_alone) {
  std::vector<int64_t> frames = {50, 400, 60, 300};
  SkipCounts skips;
  auto batches = make_batches(frames, names(4), {200}, skips);
  std::vector<std::vector<size_t>> want = {{0, 2}, {3}, {1}};
  BOOST_CHECK(batches == want);
  BOOST_CHECK_EQUAL(skips.total(), 0);
}

BOOST_AUTO_TEST_CASE(skip_counts_name_examples) {
  SkipCounts skips;
  make_batches({1, 2, 1000}, {"tiny", "small", "huge"}, {5000, 2, 999}, skips);
  BOOST_CHECK_EQUAL(skips.count(SkipReason::below_min_frames), 1);
  BOOST_CHECK_EQUAL(skips.count(SkipReason::above_max_frames), 1);
  BOOST_CHECK_EQUAL(
      skips.summary(),
      "  1 shorter than min_frames (e.g. tiny)\n  1 longer than max_frames (e.g. huge)\n");
  SkipCounts more;
  more.add(SkipReason::below_min_frames, "other");
  skips.merge(more);
  BOOST_CHECK_EQUAL(skips.count(SkipReason::below_min_frames), 2);
  BOOST_CHECK_EQUAL(skips.total(), 3);
  BOOST_CHECK(skips.summary().find("2 shorter than min_frames (e.g. tiny)") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(order_is_a_seeded_permutation_per_epoch) {
  auto a = shuffled_order(100, 2022, 0);
  std::vector<size_t> sorted = a;
  std::sort(sorted.begin(), sorted.end());
  for (size_t i = 0; i < 100; ++i) BOOST_REQUIRE_EQUAL(sorted[i], i);
  BOOST_CHECK(a == shuffled_order(100, 2022, 0));
  BOOST_CHECK(a != shuffled_order(100, 2022, 1));
  BOOST_CHECK(a != shuffled_order(100, 2023, 0));
  std::vector<size_t> identity(100);
  std::iota(identity.begin(), identity.end(), size_t{0});
  BOOST_CHECK(a != identity);
  BOOST_CHECK(shuffled_order(0, 1, 0).empty());
  BOOST_CHECK_NE(mix_seed(1, 2, 3), mix_seed(1, 3, 2));
  BOOST_CHECK_NE(mix_seed(1, 0, 0), mix_seed(2, 0, 0));
}

BOOST_AUTO_TEST_CASE(pad_batch_zero_pads) {
  std::vector<Example> ex;
  ex.push_back({ag::from_vector({1, 2, 3, 4}, {2, 2}), {5, 6}, "a", "AB"});
  ex.push_back({ag::from_vector({7, 8, 9, 10, 11, 12}, {3, 2}), {1}, "b", "C"});
  Batch b = pad_batch(std::move(ex));
  BOOST_CHECK(b.feats.shape() == (ag::Shape{2, 3, 2}));
  std::vector<float> want = {1, 2, 3, 4, 0, 0, 7, 8, 9, 10, 11, 12};
  BOOST_CHECK(b.feats.to_vector() == want);
  BOOST_CHECK(b.lengths == (std::vector<int64_t>{2, 3}));
  BOOST_CHECK(b.targets == (std::vector<std::vector<int64_t>>{{5, 6}, {1}}));
  BOOST_CHECK(b.keys == (std::vector<std::string>{"a", "b"}));
  BOOST_CHECK(b.texts == (std::vector<std::string>{"AB", "C"}));
  BOOST_CHECK_EQUAL(b.size(), 2);

  BOOST_CHECK_THROW(pad_batch({}), ag::Error);
  std::vector<Example> mixed;
  mixed.push_back({ag::zeros({2, 80}), {1}, "a", "A"});
  mixed.push_back({ag::zeros({2, 40}), {1}, "b", "B"});
  try {
    pad_batch(std::move(mixed));
    BOOST_ERROR("expected an error");
  } catch (const ag::Error& e) {
    BOOST_CHECK(std::string(e.what()).find("features of 'b' are [2,40], expected [T,80]") !=
                std::string::npos);
  }
}
