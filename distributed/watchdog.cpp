#include "watchdog.h"

#include <cstdlib>
#include <iostream>
#include <sstream>

#include "autograd/error.h"

namespace dist {

std::string timeout_message(int rank, const std::string& what, int64_t step, double seconds) {
  std::ostringstream os;
  os << "rank " << rank << ": " << what << " at step " << step << " waited more than " << seconds
     << " s for the other ranks (a rank hung or died; train.collective_timeout_s)";
  return os.str();
}

namespace {
double positive(double seconds) {
  AG_CHECK(seconds > 0, "CollectiveWatchdog: timeout ", seconds, " s is not positive");
  return seconds;
}
}  // namespace

CollectiveWatchdog::CollectiveWatchdog(int rank, double seconds, Expire expire)
    : rank_(rank),
      limit_(positive(seconds)),  // before the thread starts
      expire_(expire ? std::move(expire) : Expire([](const std::string& message) {
        std::cerr << message << "; ending the job" << std::endl;
        std::_Exit(1);
      })),
      thread_([this] { run(); }) {}

CollectiveWatchdog::~CollectiveWatchdog() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  changed_.notify_all();
  thread_.join();
}

CollectiveWatchdog::Watch::Watch(CollectiveWatchdog& dog, const char* what, int64_t step) : dog_(dog) {
  {
    std::lock_guard<std::mutex> lock(dog_.mutex_);
    dog_.what_ = what;
    dog_.step_ = step;
    dog_.since_ = std::chrono::steady_clock::now();
  }
  dog_.changed_.notify_all();
}

CollectiveWatchdog::Watch::~Watch() {
  {
    std::lock_guard<std::mutex> lock(dog_.mutex_);
    dog_.what_ = nullptr;
  }
  dog_.changed_.notify_all();
}

void CollectiveWatchdog::run() {
  std::unique_lock<std::mutex> lock(mutex_);
  while (!stopping_) {
    if (!what_) {
      changed_.wait(lock, [&] { return stopping_ || what_; });
      continue;
    }
    // Sleep until this call's deadline, or until it ends and another starts.
    const auto since = since_;
    const auto deadline = since + std::chrono::duration_cast<std::chrono::steady_clock::duration>(limit_);
    changed_.wait_until(lock, deadline, [&] { return stopping_ || !what_ || since_ != since; });
    if (!stopping_ && what_ && since_ == since && std::chrono::steady_clock::now() >= deadline) {
      expire_(timeout_message(rank_, what_, step_, limit_.count()));
      changed_.wait(lock, [&] { return stopping_ || !what_ || since_ != since; });
    }
  }
}

}  // namespace dist
