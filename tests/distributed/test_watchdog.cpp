// The collective timeout's watchdog: a watched call that outlives the timeout is reported once,
// naming the rank, the call and the step; calls that end in time are not.
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "distributed/watchdog.h"

namespace {
using namespace std::chrono_literals;

struct Expired {
  std::mutex mutex;
  std::vector<std::string> messages;
  dist::CollectiveWatchdog::Expire record() {
    return [this](const std::string& m) {
      std::lock_guard<std::mutex> lock(mutex);
      messages.push_back(m);
    };
  }
  std::vector<std::string> seen() {
    std::lock_guard<std::mutex> lock(mutex);
    return messages;
  }
};
}  // namespace

BOOST_AUTO_TEST_CASE(a_call_that_outlives_the_timeout_is_reported_once) {
  Expired expired;
  dist::CollectiveWatchdog dog(3, 0.1, expired.record());
  {
    dist::CollectiveWatchdog::Watch w(dog, "MPI_Allreduce", 42);
    std::this_thread::sleep_for(1500ms);  // 15 timeouts: reported once, not again
  }
  BOOST_REQUIRE_EQUAL(expired.seen().size(), 1u);
  BOOST_TEST(expired.seen()[0] ==
             "rank 3: MPI_Allreduce at step 42 waited more than 0.1 s for the other ranks (a rank "
             "hung or died; train.collective_timeout_s)");
}

BOOST_AUTO_TEST_CASE(calls_that_end_in_time_are_not_reported) {
  Expired expired;
  dist::CollectiveWatchdog dog(0, 1.0, expired.record());
  // Short calls (a fortieth of the timeout, with room for a loaded machine's oversleeping)
  // whose total exceeds the timeout: only each call's own wait counts.
  for (int i = 0; i < 60; ++i) {
    dist::CollectiveWatchdog::Watch w(dog, "MPI_Barrier", i);
    std::this_thread::sleep_for(25ms);
  }
  std::this_thread::sleep_for(1200ms);  // idle longer than the timeout, nothing watched
  BOOST_TEST(expired.seen().empty());
  // A late call after all that is still caught, with its own step.
  {
    dist::CollectiveWatchdog::Watch w(dog, "MPI_Bcast", 99);
    std::this_thread::sleep_for(2500ms);
  }
  BOOST_REQUIRE_EQUAL(expired.seen().size(), 1u);
  BOOST_TEST(expired.seen()[0].find("rank 0: MPI_Bcast at step 99 waited more than 1 s") == 0u);
}

BOOST_AUTO_TEST_CASE(a_timeout_must_be_positive) {
  BOOST_CHECK_THROW(dist::CollectiveWatchdog(0, 0.0), std::exception);
}
