// The NCCL backend for GPU buffers (built when LATENTASR_NCCL is ON). Each rank drives the
// GPU of its local rank; rank 0's ncclUniqueId reaches the others over the MPI
// communicator; all-reduces run on a stream of their own so they overlap the compute
// stream, each first waiting (by an event) for the work already queued on autograd's
// stream, which wrote its buffer; a request completes when its CUDA event has. Pointers
// passed in are device memory. Waits poll: NCCL's asynchronous error (a dead peer, a network
// failure) and the collective timeout each abort the communicator (ncclCommAbort, which
// unblocks its kernels) and throw, naming the rank, the call and the step. Untested here: the
// build machines have no GPU.
#pragma once
#include <cuda_runtime.h>
#include <nccl.h>

#include <functional>

#include "communicator.h"

namespace dist {

// Throw ag::Error naming the call, the code and its text unless the call succeeded.
void check_cuda(cudaError_t rc, const char* call);
void check_nccl(ncclResult_t rc, const char* call);

class Nccl final : public Communicator {
 public:
  // bootstrap: the MPI world (rank, size, local rank and the unique-id broadcast).
  explicit Nccl(Communicator& bootstrap);
  ~Nccl() override;
  Nccl(const Nccl&) = delete;
  Nccl& operator=(const Nccl&) = delete;

  int rank() const override { return boot_.rank(); }
  int world_size() const override { return boot_.world_size(); }
  int local_rank() const override { return boot_.local_rank(); }
  int local_size() const override { return boot_.local_size(); }
  ag::Device buffer_device() const override { return ag::Device::cuda; }
  void all_reduce(float* data, size_t n, ReduceOp op) override;
  void all_reduce(double* data, size_t n, ReduceOp op) override;
  std::unique_ptr<Request> all_reduce_async(float* data, size_t n, ReduceOp op) override;
  void broadcast(void* data, size_t bytes, int root) override;
  void barrier() override;
  [[noreturn]] void abort(int code) override;
  void set_timeout(double seconds) override;

  // Until query() (cudaStreamQuery, cudaEventQuery) stops answering cudaErrorNotReady; see above.
  void wait_for(const std::function<cudaError_t()>& query, const char* what);

 private:
  void after_compute();
  void launch(void* data, size_t n, ncclDataType_t type, ReduceOp op);
  Communicator& boot_;
  ncclComm_t comm_ = nullptr;
  cudaStream_t stream_ = nullptr;
  cudaEvent_t ready_ = nullptr;  // recorded on autograd's stream before each collective
  double timeout_s_ = 0;         // 0: none
};

}  // namespace dist
