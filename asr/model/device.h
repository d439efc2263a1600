// The device a run computes on: `train.device` / `asr-eval --device` checked at start, one
// GPU per rank under mpirun, and batch features uploaded to it.
#pragma once
#include <memory>
#include <string>

#include "autograd/cuda.h"
#include "autograd/tensor.h"

namespace asr {

// "cpu" or "cuda" -> the device. For cuda: fails in one line ("<who> is cuda, but ...")
// unless this build has the CUDA backend and a GPU answers, then makes the rank's GPU
// current (cudaSetDevice): GPU local_rank when the machine shows at least local_size GPUs,
// GPU 0 when it shows each rank one (CUDA_VISIBLE_DEVICES per rank); fewer GPUs than ranks
// otherwise is an error.
ag::Device select_device(const std::string& name, const std::string& who, int local_rank = 0,
                         int local_size = 1);

// Batch features [B, T, F] from the loader (CPU) to the device: on CUDA through a
// page-locked staging buffer (one host copy, then an asynchronous DMA upload on the
// library's stream); on the CPU the tensor itself.
class FeatureUploader {
 public:
  explicit FeatureUploader(ag::Device device) : device_(device) {}
  ~FeatureUploader();  // waits for an upload still reading the staging buffer
  FeatureUploader(const FeatureUploader&) = delete;
  FeatureUploader& operator=(const FeatureUploader&) = delete;
  ag::Tensor operator()(const ag::Tensor& feats);
  ag::Device device() const { return device_; }

 private:
  ag::Device device_;
  std::unique_ptr<ag::cuda::PinnedBuffer> pinned_;  // grows to the largest batch
};

}  // namespace asr
