#include "nccl_communicator.h"

#include <cstdlib>

#include "autograd/cuda.h"
#include "autograd/error.h"

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
  explicit NcclRequest(cudaStream_t stream) {
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
  void wait() override { check_cuda(cudaEventSynchronize(event_), "cudaEventSynchronize"); }

 private:
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
  after_compute();
  check_nccl(ncclAllReduce(data, data, n, type, red, comm_, stream_), "ncclAllReduce");
}

void Nccl::all_reduce(float* data, size_t n, ReduceOp op) {
  launch(data, n, ncclFloat32, op);
  check_cuda(cudaStreamSynchronize(stream_), "cudaStreamSynchronize");
}

void Nccl::all_reduce(double* data, size_t n, ReduceOp op) {
  launch(data, n, ncclFloat64, op);
  check_cuda(cudaStreamSynchronize(stream_), "cudaStreamSynchronize");
}

std::unique_ptr<Request> Nccl::all_reduce_async(float* data, size_t n, ReduceOp op) {
  launch(data, n, ncclFloat32, op);
  return std::make_unique<NcclRequest>(stream_);
}

void Nccl::broadcast(void* data, size_t bytes, int root) {
  after_compute();
  check_nccl(ncclBroadcast(data, data, bytes, ncclUint8, root, comm_, stream_), "ncclBroadcast");
  check_cuda(cudaStreamSynchronize(stream_), "cudaStreamSynchronize");
}

void Nccl::barrier() { boot_.barrier(); }

void Nccl::abort(int code) {
  ncclCommAbort(comm_);
  comm_ = nullptr;
  boot_.abort(code);
  std::_Exit(code);  // not reached: abort() does not return
}

}  // namespace dist
