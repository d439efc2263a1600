// CTC decoding on hand-made posteriors.
#include <boost/test/unit_test.hpp>

#include <cmath>

#include "asr/model/ctc_decode.h"
#include "common/gradcheck.h"

using namespace ag;

namespace {
Tensor log_of(const std::vector<std::vector<float>>& probs) {
  std::vector<float> v;
  for (const auto& row : probs)
    for (float p : row) v.push_back(std::log(p));
  return from_vector(v, {static_cast<int64_t>(probs.size()), static_cast<int64_t>(probs[0].size())});
}
}  // namespace

BOOST_AUTO_TEST_CASE(greedy_merges_repeats_and_drops_blanks) {
  // best path: A A _ A B B _ -> A A B
  Tensor lp = log_of({{.1f, .8f, .1f}, {.1f, .8f, .1f}, {.8f, .1f, .1f}, {.2f, .7f, .1f},
                      {.1f, .1f, .8f}, {.1f, .1f, .8f}, {.9f, .05f, .05f}});
  BOOST_CHECK(asr::ctc_greedy(lp, 7) == (std::vector<int64_t>{1, 1, 2}));
  BOOST_CHECK(asr::ctc_greedy(lp, 2) == (std::vector<int64_t>{1}));
  BOOST_CHECK(asr::ctc_greedy(lp, 0).empty());
}

BOOST_AUTO_TEST_CASE(beam_search_sums_alignments_where_greedy_cannot) {
  // Best path is blank blank (0.36), but "A" has A A + A _ + _ A = 0.64.
  Tensor lp = log_of({{.6f, .4f}, {.6f, .4f}});
  BOOST_CHECK(asr::ctc_greedy(lp, 2).empty());
  BOOST_CHECK(asr::ctc_prefix_beam_search(lp, 2, 4) == (std::vector<int64_t>{1}));
  BOOST_CHECK(asr::ctc_prefix_beam_search(lp, 2, 1).empty());  // beam 1 is best-path-like here
}

BOOST_AUTO_TEST_CASE(beam_search_keeps_repeats_separated_by_blank) {
  Tensor lp = log_of({{.05f, .9f, .05f}, {.9f, .05f, .05f}, {.05f, .9f, .05f}, {.05f, .05f, .9f}});
  BOOST_CHECK(asr::ctc_prefix_beam_search(lp, 4, 5) == (std::vector<int64_t>{1, 1, 2}));
}

BOOST_AUTO_TEST_CASE(beam_agrees_with_greedy_on_peaky_posteriors) {
  manual_seed(3);
  // Near one-hot frames: both decoders find the same sequence.
  std::vector<float> v;
  std::vector<int64_t> path = {0, 3, 3, 0, 1, 2, 2, 0, 0, 4, 0};
  for (int64_t k : path)
    for (int64_t j = 0; j < 5; ++j) v.push_back(j == k ? -0.01f : -6.0f);
  Tensor lp = from_vector(v, {11, 5});
  BOOST_CHECK(asr::ctc_greedy(lp, 11) == (std::vector<int64_t>{3, 1, 2, 4}));
  BOOST_CHECK(asr::ctc_prefix_beam_search(lp, 11, 8) == (std::vector<int64_t>{3, 1, 2, 4}));
  auto batch = asr::ctc_decode(reshape(lp, {1, 11, 5}), {11}, 8);
  BOOST_CHECK(batch[0] == (std::vector<int64_t>{3, 1, 2, 4}));
}

BOOST_AUTO_TEST_CASE(errors) {
  testing::check_error([] { asr::ctc_greedy(zeros({2, 3, 4}), 1); }, "are not a CPU [T, V] tensor");
  testing::check_error([] { asr::ctc_greedy(zeros({3, 4}), 5); }, "length 5 outside [0, 3]");
  testing::check_error([] { asr::ctc_prefix_beam_search(zeros({3, 4}), 3, 0); }, "beam size 0 < 1");
}
