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
  dist::CollectiveWatchdog dog(3, 0.2, expired.record());
  const auto t0 = std::chrono::steady_clock::now();
  {
    dist::CollectiveWatchdog::Watch w(dog, "MPI_Allreduce", 42);
    std::this_thread::sleep_for(600ms);
  }
  const double waited = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  BOOST_TEST(waited >= 0.6);
  BOOST_REQUIRE_EQUAL(expired.seen().size(), 1u);
  BOOST_TEST(expired.seen()[0] ==
             "rank 3: MPI_Allreduce at step 42 waited more than 0.2 s for the other ranks (a rank "
             "hung or died; train.collective_timeout_s)");
}

BOOST_AUTO_TEST_CASE(calls_that_end_in_time_are_not_reported) {
  Expired expired;
  dist::CollectiveWatchdog dog(0, 0.3, expired.record());
  // Many short calls whose total far exceeds the timeout: only each call's own wait counts.
  for (int i = 0; i < 20; ++i) {
    dist::CollectiveWatchdog::Watch w(dog, "MPI_Barrier", i);
    std::this_thread::sleep_for(50ms);
  }
  std::this_thread::sleep_for(400ms);  // idle, nothing watched
  BOOST_TEST(expired.seen().empty());
  // A late call after all that is still caught, with its own step.
  {
    dist::CollectiveWatchdog::Watch w(dog, "MPI_Bcast", 99);
    std::this_thread::sleep_for(500ms);
  }
  BOOST_REQUIRE_EQUAL(expired.seen().size(), 1u);
  BOOST_TEST(expired.seen()[0].find("rank 0: MPI_Bcast at step 99 waited more than 0.3 s") == 0u);
}

BOOST_AUTO_TEST_CASE(a_timeout_must_be_positive) {
  BOOST_CHECK_THROW(dist::CollectiveWatchdog(0, 0.0), std::exception);
}
