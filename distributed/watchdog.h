// The timeout of collective calls (train.collective_timeout_s). A rank that hangs or dies
// inside a step leaves every other rank waiting in its next collective forever; a waiting
// collective that outlives the timeout ends the job instead, with a message naming the rank,
// the collective and the step.
//
// MPI's blocking calls cannot be interrupted: CollectiveWatchdog is a thread that watches the
// call in progress and ends the process (mpirun then ends the other ranks). NCCL's calls are
// waited for by polling, so the NCCL communicator checks the deadline itself, aborts the
// communicator and throws (nccl_communicator.cpp).
#pragma once
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

namespace dist {

// "rank R: <what> at step S waited more than T s for the other ranks (a rank hung or died;
// train.collective_timeout_s)"
std::string timeout_message(int rank, const std::string& what, int64_t step, double seconds);

class CollectiveWatchdog {
 public:
  // Called on the watchdog's thread with timeout_message(...) when a watched call expires.
  // The default prints the message on stderr and ends the process (exit 1); one that returns
  // (a test's) is called again only for a later call.
  using Expire = std::function<void(const std::string&)>;

  // seconds > 0.
  CollectiveWatchdog(int rank, double seconds, Expire expire = {});
  ~CollectiveWatchdog();
  CollectiveWatchdog(const CollectiveWatchdog&) = delete;
  CollectiveWatchdog& operator=(const CollectiveWatchdog&) = delete;

  // Watches one call from construction to destruction; calls do not nest.
  class Watch {
   public:
    Watch(CollectiveWatchdog& dog, const char* what, int64_t step);
    ~Watch();
    Watch(const Watch&) = delete;
    Watch& operator=(const Watch&) = delete;

   private:
    CollectiveWatchdog& dog_;
  };

 private:
  void run();

  const int rank_;
  const std::chrono::duration<double> limit_;
  const Expire expire_;
  std::mutex mutex_;
  std::condition_variable changed_;
  bool stopping_ = false;
  const char* what_ = nullptr;  // the call in progress, or none
  int64_t step_ = 0;
  std::chrono::steady_clock::time_point since_;
  std::thread thread_;  // last: starts after the members it reads
};

}  // namespace dist
