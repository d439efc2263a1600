// The CUDA device: availability, its stream, TF32 matmuls and pinned host buffers.
// Every function exists in every build: without the CUDA backend (LATENTASR_CUDA off)
// built() and available() are false, device_count() is 0, the TF32 switch is a flag, and
// the rest throws ag::Error saying that the build has no CUDA backend.
#pragma once
#include <cstddef>

#include "tensor.h"

namespace ag::cuda {

// True when the library was built with the CUDA backend.
bool built();
// True when a CUDA driver answers and has at least one GPU; never throws.
bool available();
int device_count();  // 0 when !available()
// Makes GPU `index` this thread's current device (cudaSetDevice): call before the first
// CUDA tensor, e.g. one GPU per MPI rank. Throws naming the index and the device count.
void set_device(int index);

// Every CUDA kernel and copy of the library runs in order on one stream per device (a
// blocking stream, so it also orders with the legacy default stream). Host reads
// (Tensor::to_vector, to_device(t, Device::cpu)) wait for it themselves.
void synchronize();  // waits until the current device's stream has finished
// That stream as the runtime's handle (a cudaStream_t), for code that orders its own
// streams after the library's work (the NCCL communicator).
void* stream_handle();

// TF32 tensor-core matmuls (about 1e-3 relative error); off by default.
void set_allow_tf32(bool allow);
bool allow_tf32();

// Page-locked host memory for batches: a loader thread fills it, then
// copy_to_device_async uploads it without a staging copy.
class PinnedBuffer {
 public:
  explicit PinnedBuffer(size_t bytes);  // cudaHostAlloc
  ~PinnedBuffer();
  PinnedBuffer(const PinnedBuffer&) = delete;
  PinnedBuffer& operator=(const PinnedBuffer&) = delete;
  void* data() const { return data_; }
  size_t bytes() const { return bytes_; }

 private:
  void* data_ = nullptr;
  size_t bytes_ = 0;
};

// Queues dst <- the first dst.numel() * dtype_size bytes of src on the stream and returns;
// src must stay unchanged until synchronize() (or a host read) has passed.
void copy_to_device_async(const Tensor& dst, const PinnedBuffer& src);

}  // namespace ag::cuda
