#include "nccl_communicator.h"

#include <chrono>
#include <cstdlib>
#include <thread>

#include "autograd/cuda.h"
#include "autograd/error.h"
#include "watchdog.h"

namespace dist {

void check_cuda(cudaError_t rc, const char* call) {
  if (rc != cudaSuccess)
    ag::detail::fail(call, " failed: CUDA error ", static_cast<int>(rc), " (", cudaGetErrorString(rc), ")");
}

void check_nccl(ncclResult_t rc, const char* call) {
  if (rc != ncclSuccess)
    ag::detail::fail(call, " failed: NCCL error ", static_cast<int>(rc), " (", ncclGetErrorString(rc), ")");
}

namespace {

class NcclRequest final : public Request {
 public:
  NcclRequest(Nccl& owner, cudaStream_t stream) : owner_(owner) {
    check_cuda(cudaEventCreateWithFlags(&event_, cudaEventDisableTiming), "cudaEventCreateWithFlags");
    check_cuda(cudaEventRecord(event_, stream), "cudaEventRecord");
  }
  ~NcclRequest() override { cudaEventDestroy(event_); }
  bool test() override {
    cudaError_t rc = cudaEventQuery(event_);
    if (rc == cudaErrorNotReady) return false;
    check_cuda(rc, "cudaEventQuery");
    return true;
  }
  void wait() override {
    owner_.wait_for([this] { return cudaEventQuery(event_); }, "ncclAllReduce (bucket)");
  }

 private:
  Nccl& owner_;
  cudaEvent_t event_ = nullptr;
};

}  // namespace

Nccl::Nccl(Communicator& bootstrap) : boot_(bootstrap) {
  int devices = 0;
  check_cuda(cudaGetDeviceCount(&devices), "cudaGetDeviceCount");
  AG_CHECK(devices > 0, "Nccl: no CUDA device");
  check_cuda(cudaSetDevice(boot_.local_rank() % devices), "cudaSetDevice");
  ncclUniqueId id;
  if (boot_.rank() == 0) check_nccl(ncclGetUniqueId(&id), "ncclGetUniqueId");
  boot_.broadcast(&id, sizeof id, 0);
  check_nccl(ncclCommInitRank(&comm_, boot_.world_size(), id, boot_.rank()), "ncclCommInitRank");
  check_cuda(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking), "cudaStreamCreateWithFlags");
  check_cuda(cudaEventCreateWithFlags(&ready_, cudaEventDisableTiming), "cudaEventCreateWithFlags");
}

Nccl::~Nccl() {
  if (ready_) cudaEventDestroy(ready_);
  if (stream_) cudaStreamDestroy(stream_);
  if (comm_) ncclCommDestroy(comm_);
}

// The buffer was written on autograd's stream (e.g. a gradient copied into its bucket): the
// next collective starts after that work, without blocking the host.
void Nccl::after_compute() {
  check_cuda(cudaEventRecord(ready_, static_cast<cudaStream_t>(ag::cuda::stream_handle())),
             "cudaEventRecord");
  check_cuda(cudaStreamWaitEvent(stream_, ready_, 0), "cudaStreamWaitEvent");
}

void Nccl::launch(void* data, size_t n, ncclDataType_t type, ReduceOp op) {
  ncclRedOp_t red = op == ReduceOp::average ? ncclAvg : op == ReduceOp::max ? ncclMax : ncclSum;
  AG_CHECK(comm_, "NCCL: the communicator was aborted after an earlier error");
  after_compute();
  check_nccl(ncclAllReduce(data, data, n, type, red, comm_, stream_), "ncclAllReduce");
}

void Nccl::set_timeout(double seconds) {
  AG_CHECK(seconds >= 0, "collective timeout ", seconds, " s is negative");
  timeout_s_ = seconds;
}

void Nccl::wait_for(const std::function<cudaError_t()>& query, const char* what) {
  const auto start = std::chrono::steady_clock::now();
  for (;;) {
    const cudaError_t rc = query();
    if (rc == cudaSuccess) return;
    if (rc != cudaErrorNotReady) check_cuda(rc, what);
    ncclResult_t async = ncclSuccess;
    if (comm_) check_nccl(ncclCommGetAsyncError(comm_, &async), "ncclCommGetAsyncError");
    const double waited = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (async != ncclSuccess || (timeout_s_ > 0 && !untimed() && waited > timeout_s_)) {
      ncclCommAbort(comm_);
      comm_ = nullptr;
      if (async != ncclSuccess)
        ag::detail::fail("rank ", rank(), ": ", what, " at step ", step(), ": NCCL error ",
                         static_cast<int>(async), " (", ncclGetErrorString(async), ")");
      ag::detail::fail(timeout_message(rank(), what, step(), timeout_s_));
    }
    // Spin briefly (a collective usually ends within microseconds of its kernels), then back
    // off so that waiting does not take a core from the compute threads.
    if (waited < 1e-3)
      std::this_thread::yield();
    else
      std::this_thread::sleep_for(std::chrono::microseconds(50));
  }
}

void Nccl::all_reduce(float* data, size_t n, ReduceOp op) {
  launch(data, n, ncclFloat32, op);
  wait_for([this] { return cudaStreamQuery(stream_); }, "ncclAllReduce");
}

void Nccl::all_reduce(double* data, size_t n, ReduceOp op) {
  launch(data, n, ncclFloat64, op);
  wait_for([this] { return cudaStreamQuery(stream_); }, "ncclAllReduce");
}

std::unique_ptr<Request> Nccl::all_reduce_async(float* data, size_t n, ReduceOp op) {
  launch(data, n, ncclFloat32, op);
  return std::make_unique<NcclRequest>(*this, stream_);
}

void Nccl::broadcast(void* data, size_t bytes, int root) {
  AG_CHECK(comm_, "NCCL: the communicator was aborted after an earlier error");
  after_compute();
  check_nccl(ncclBroadcast(data, data, bytes, ncclUint8, root, comm_, stream_), "ncclBroadcast");
  wait_for([this] { return cudaStreamQuery(stream_); }, "ncclBroadcast");
}

void Nccl::barrier() { boot_.barrier(); }

void Nccl::abort(int code) {
  if (comm_) ncclCommAbort(comm_);
  comm_ = nullptr;
  boot_.abort(code);
  std::_Exit(code);  // not reached: abort() does not return
}

}  // namespace dist
