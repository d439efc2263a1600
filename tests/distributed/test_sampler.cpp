#include <boost/test/unit_test.hpp>

#include <numeric>
#include <set>

#include "distributed/sampler.h"

BOOST_AUTO_TEST_CASE(shards_are_disjoint_and_equal) {
  std::vector<size_t> order(11);
  std::iota(order.rbegin(), order.rend(), size_t{0});  // 10, 9, ..., 0
  std::set<size_t> seen;
  for (int r = 0; r < 3; ++r) {
    std::vector<size_t> mine = dist::shard(order, r, 3, true);
    BOOST_TEST(mine.size() == 3u);  // 11 / 3; the last 2 of the order are dropped
    for (size_t b : mine) BOOST_TEST(seen.insert(b).second);
  }
  BOOST_TEST(seen.count(1) == 0u);
  BOOST_TEST(seen.count(0) == 0u);
}

BOOST_AUTO_TEST_CASE(evaluation_shards_cover_everything) {
  std::vector<size_t> order(7);
  std::iota(order.begin(), order.end(), size_t{0});
  size_t total = 0;
  for (int r = 0; r < 2; ++r) total += dist::shard(order, r, 2, false).size();
  BOOST_TEST(total == 7u);
  BOOST_CHECK_THROW(dist::shard(order, 2, 2, true), std::exception);
}

BOOST_AUTO_TEST_CASE(position_maps_between_rank_counts) {
  // 2 ranks, 3 local batches each (accumulation 1): 6 global batches.
  BOOST_TEST(dist::local_position(6, 2, 1) == 3);
  BOOST_TEST(dist::local_position(6, 1, 1) == 6);
  BOOST_TEST(dist::local_position(6, 4, 1) == 2);  // rounded up: none read twice
  BOOST_TEST(dist::local_position(8, 2, 2) == 4);
  BOOST_TEST(dist::local_position(8, 3, 2) == 4);  // whole accumulations only
  BOOST_TEST(dist::local_position(0, 3, 4) == 0);
}
