// Collective communication between the ranks of a data-parallel job. One abstract
// Communicator with three backends: SingleProcess (world 1, no MPI: a plain run), Mpi (CPU
// buffers, launched by mpirun) and Nccl (GPU buffers; needs LATENTASR_NCCL and a GPU).
// Every call is collective: all ranks make the same calls in the same order.
#pragma once
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>

#include "autograd/device.h"

namespace dist {

enum class ReduceOp { sum, average, max };

// A non-blocking collective in flight. test() also advances it (MPI progresses
// non-blocking collectives only inside MPI calls); wait() blocks until it is done.
class Request {
 public:
  virtual ~Request() = default;
  virtual bool test() = 0;
  virtual void wait() = 0;
};

class Communicator {
 public:
  virtual ~Communicator() = default;
  virtual int rank() const = 0;
  virtual int world_size() const = 0;
  virtual int local_rank() const = 0;  // rank among the processes on this machine
  virtual int local_size() const = 0;  // processes on this machine
  // Where the buffers passed to the collectives live: host memory (MPI, single process) or
  // the current GPU (NCCL).
  virtual ag::Device buffer_device() const { return ag::Device::cpu; }

  // In place over the first n elements of data.
  virtual void all_reduce(float* data, size_t n, ReduceOp op) = 0;
  virtual void all_reduce(double* data, size_t n, ReduceOp op) = 0;
  // data stays valid and untouched until the request completes.
  virtual std::unique_ptr<Request> all_reduce_async(float* data, size_t n, ReduceOp op) = 0;
  // root's bytes copied into every rank's data.
  virtual void broadcast(void* data, size_t bytes, int root) = 0;
  virtual void barrier() = 0;
  // Ends every rank of the job with `code` (never returns).
  [[noreturn]] virtual void abort(int code) = 0;

  // A collective that waits more than `seconds` for the other ranks ends the job with a
  // message naming this rank, the call and the step last given to at_step() (0: wait
  // forever, the default; watchdog.h). Not collective.
  virtual void set_timeout(double seconds) {}
  void at_step(int64_t step) { step_.store(step, std::memory_order_relaxed); }

  // While alive, this rank's collectives wait without the timeout: around a collective that
  // waits for work only one rank does (rank 0 writing a checkpoint or averaging), which may
  // take longer than any exchange between ranks. Scopes nest.
  class Untimed {
   public:
    explicit Untimed(Communicator& c) : c_(c) { ++c_.untimed_; }
    ~Untimed() { --c_.untimed_; }
    Untimed(const Untimed&) = delete;
    Untimed& operator=(const Untimed&) = delete;

   private:
    Communicator& c_;
  };

 protected:
  int64_t step() const { return step_.load(std::memory_order_relaxed); }
  bool untimed() const { return untimed_.load() > 0; }

 private:
  std::atomic<int64_t> step_{0};
  std::atomic<int> untimed_{0};
};

// True when this process was started by mpirun/mpiexec (Open MPI or PMIx environment).
bool launched_by_mpi();

// The process's communicator over all ranks: MPI when launched_by_mpi(), else a single
// process. Made on first use; MPI is finalized at exit.
Communicator& world();

// Whether this build has the NCCL communicator (LATENTASR_NCCL).
bool nccl_built();
// NCCL over the ranks of `bootstrap` (usually world()), for GPU buffers: one GPU per local
// rank. Throws in a build without NCCL, or where no GPU answers.
std::unique_ptr<Communicator> make_nccl(Communicator& bootstrap);

}  // namespace dist
