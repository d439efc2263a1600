// Global CMVN: statistics, normalization, merging, the JSON round trip, and bad files.
#include <unistd.h>

#include <boost/test/unit_test.hpp>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "asr/data/cmvn.h"
#include "autograd/ops.h"
#include "common/gradcheck.h"
#include "common/scratch.h"

namespace fs = std::filesystem;

namespace {

// [t, 3] with bin f around 10 f + 1, spread f + 1, and a constant last bin.
ag::Tensor features(int64_t t, uint64_t seed) {
  ag::manual_seed(seed);
  ag::Tensor x = ag::normal({t, 3});
  float* p = x.data();
  for (int64_t i = 0; i < t; ++i) {
    p[i * 3 + 0] = 1 + 1 * p[i * 3 + 0];
    p[i * 3 + 1] = 11 + 2 * p[i * 3 + 1];
    p[i * 3 + 2] = 7;
  }
  return x;
}


}  // namespace

BOOST_AUTO_TEST_CASE(statistics_match_a_direct_computation) {
  ag::Tensor a = features(300, 1), b = features(200, 2);
  asr::Cmvn cmvn;
  cmvn.add(a);
  cmvn.add(b);
  BOOST_TEST(cmvn.frames() == 500);
  BOOST_TEST(cmvn.dim() == 3);
  std::vector<float> all = a.to_vector(), more = b.to_vector();
  all.insert(all.end(), more.begin(), more.end());
  for (int f = 0; f < 3; ++f) {
    double s = 0, ss = 0;
    for (int t = 0; t < 500; ++t) s += all[t * 3 + f];
    double mean = s / 500;
    for (int t = 0; t < 500; ++t) ss += (all[t * 3 + f] - mean) * (all[t * 3 + f] - mean);
    BOOST_TEST(cmvn.mean()[f] == mean, boost::test_tools::tolerance(1e-6));
    BOOST_TEST(cmvn.stddev()[f] == std::max(std::sqrt(ss / 500), 1e-5),
               boost::test_tools::tolerance(1e-4));
  }
  BOOST_TEST(cmvn.mean()[1] > 10.5f);
  BOOST_TEST(cmvn.stddev()[1] > 1.8f);
  BOOST_TEST(cmvn.stddev()[2] == 1e-5f);  // a constant bin: the floor
}

BOOST_AUTO_TEST_CASE(apply_gives_zero_mean_unit_variance) {
  ag::Tensor x = features(400, 3);
  asr::Cmvn cmvn;
  cmvn.add(x);
  ag::Tensor y = cmvn.apply(x);
  BOOST_REQUIRE(y.shape() == x.shape());
  for (int f = 0; f < 2; ++f) {
    double s = 0, ss = 0;
    for (int t = 0; t < 400; ++t) {
      s += y.at({t, f});
      ss += y.at({t, f}) * y.at({t, f});
    }
    BOOST_TEST(std::abs(s / 400) < 1e-5);
    BOOST_TEST(std::abs(ss / 400 - 1) < 1e-4);
  }
  for (int t = 0; t < 400; ++t) BOOST_TEST(y.at({t, 2}) == 0.0f);  // constant bin stays finite
  BOOST_TEST(x.at({0, 0}) == features(400, 3).at({0, 0}));         // input untouched
}

BOOST_AUTO_TEST_CASE(merge_equals_adding_everything_to_one) {
  ag::Tensor a = features(100, 4), b = features(50, 5);
  asr::Cmvn one, first, second, empty;
  one.add(a);
  one.add(b);
  first.add(a);
  second.add(b);
  first.merge(second);
  first.merge(empty);
  empty.merge(one);
  for (const asr::Cmvn* c : {&first, &empty}) {
    BOOST_TEST(c->frames() == 150);
    BOOST_TEST(c->mean() == one.mean(), boost::test_tools::per_element());
    BOOST_TEST(c->stddev() == one.stddev(), boost::test_tools::per_element());
  }
}

BOOST_AUTO_TEST_CASE(save_load_round_trip) {
  testing::Scratch scratch("test_cmvn");
  asr::Cmvn cmvn;
  cmvn.add(features(250, 6));
  cmvn.save(scratch("cmvn.json"));
  BOOST_TEST(!fs::exists(scratch("cmvn.json.tmp")));
  asr::Cmvn back = asr::Cmvn::load(scratch("cmvn.json"));
  BOOST_TEST(back.frames() == 250);
  BOOST_TEST(back.mean() == cmvn.mean(), boost::test_tools::per_element());
  BOOST_TEST(back.stddev() == cmvn.stddev(), boost::test_tools::per_element());
  ag::Tensor x = features(10, 7);
  BOOST_TEST(back.apply(x).to_vector() == cmvn.apply(x).to_vector(),
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(bad_files_name_the_file_and_the_fault) {
  testing::Scratch scratch("test_cmvn");
  auto load_error = [&](const std::string& name, const std::string& text, const std::string& part) {
    std::string path = scratch.write(name, text);
    testing::check_error([&] { asr::Cmvn::load(path); }, path);
    testing::check_error([&] { asr::Cmvn::load(path); }, part);
  };
  testing::check_error([&] { asr::Cmvn::load(scratch("missing.json")); }, "missing.json: cannot open");
  load_error("garbage.json", "{\"frames\": 3, \"sum\": [", "not valid JSON");
  load_error("array.json", "[1, 2]", "must be a JSON object");
  load_error("no_sum_sq.json", "{\"frames\": 3, \"sum\": [1]}", "lack the key \"sum_sq\"");
  load_error("string.json", "{\"frames\": \"3\", \"sum\": [1], \"sum_sq\": [1]}", "bad value");
  load_error("zero.json", "{\"frames\": 0, \"sum\": [1], \"sum_sq\": [1]}", "must be positive");
  load_error("sizes.json", "{\"frames\": 3, \"sum\": [1, 2], \"sum_sq\": [1]}", "must match");
  load_error("empty.json", "{\"frames\": 3, \"sum\": [], \"sum_sq\": []}", "must match");
  load_error("negative.json", "{\"frames\": 3, \"sum\": [1], \"sum_sq\": [-1]}", "bin 0");
}

BOOST_AUTO_TEST_CASE(shape_mismatches_are_refused) {
  testing::Scratch scratch("test_cmvn");
  asr::Cmvn cmvn;
  testing::check_error([&] { cmvn.apply(features(5, 1)); }, "no statistics");
  testing::check_error([&] { cmvn.save(scratch("none.json")); }, "none.json");
  BOOST_TEST(!fs::exists(scratch("none.json")));
  cmvn.add(features(5, 1));
  testing::check_error([&] { cmvn.add(ag::zeros({5, 4})); }, "do not have the 3 bins");
  testing::check_error([&] { cmvn.apply(ag::zeros({5, 4})); }, "do not have the 3 bins");
  testing::check_error([&] { cmvn.add(ag::zeros({15})); }, "[frames, bins]");
  asr::Cmvn other;
  other.add(ag::zeros({2, 4}));
  testing::check_error([&] { cmvn.merge(other); }, "4 bins into 3");
}
