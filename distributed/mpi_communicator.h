// The MPI backend for CPU buffers. Initializes MPI (MPI_THREAD_FUNNELED: only the thread
// that made it calls MPI) with errors returned, not fatal: each failing call throws
// ag::Error naming the call, its return code and MPI's text for it. With a timeout, a
// watchdog thread ends the process when a blocking call outlives it (mpirun then ends the
// other ranks).
#pragma once
#include <mpi.h>

#include <memory>
#include <optional>

#include "communicator.h"
#include "watchdog.h"

namespace dist {

// Throws ag::Error("<call> failed: MPI error <rc> (<text>)") unless rc is MPI_SUCCESS.
void check_mpi(int rc, const char* call);

class Mpi final : public Communicator {
 public:
  Mpi();  // MPI_Init_thread unless MPI is already initialized
  ~Mpi() override;  // MPI_Finalize if this object initialized MPI
  Mpi(const Mpi&) = delete;
  Mpi& operator=(const Mpi&) = delete;

  int rank() const override { return rank_; }
  int world_size() const override { return size_; }
  int local_rank() const override { return local_rank_; }
  int local_size() const override { return local_size_; }
  void all_reduce(float* data, size_t n, ReduceOp op) override;
  void all_reduce(double* data, size_t n, ReduceOp op) override;
  std::unique_ptr<Request> all_reduce_async(float* data, size_t n, ReduceOp op) override;
  void broadcast(void* data, size_t bytes, int root) override;
  void barrier() override;
  [[noreturn]] void abort(int code) override;
  void set_timeout(double seconds) override;

 private:
  // Watches `what` until the returned object dies (nothing without a timeout).
  std::optional<CollectiveWatchdog::Watch> watch(const char* what);

  std::shared_ptr<CollectiveWatchdog> watchdog_;  // with a timeout only (shared with requests)
  bool initialized_here_ = false;
  int rank_ = 0, size_ = 1, local_rank_ = 0, local_size_ = 1;
};

}  // namespace dist
