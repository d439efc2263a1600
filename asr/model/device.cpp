#include "asr/model/device.h"

#include <algorithm>
#include <cstring>
#include <iostream>

#include "autograd/copy.h"

namespace asr {

ag::Device select_device(const std::string& name, const std::string& who, int local_rank,
                         int local_size) {
  if (name == "cpu") return ag::Device::cpu;
  AG_CHECK(name == "cuda", who, " is '", name, "', neither cpu nor cuda");
  AG_CHECK(ag::cuda::built(), who, " is cuda, but this build has no CUDA backend "
           "(configure with -DLATENTASR_CUDA=ON where nvcc is installed)");
  const int gpus = ag::cuda::device_count();
  AG_CHECK(gpus > 0, who, " is cuda, but no CUDA device answers on this machine "
           "(cudaGetDeviceCount found none)");
  // One GPU per rank: GPU <local rank>, or GPU 0 where the launcher shows each rank only its
  // own (CUDA_VISIBLE_DEVICES per rank).
  AG_CHECK(local_size <= gpus || gpus == 1, who, " is cuda with ", local_size,
           " ranks on this machine but ", gpus, " GPUs answer: run one rank per GPU");
  ag::cuda::set_device(local_size <= gpus ? local_rank : 0);
  return ag::Device::cuda;
}

FeatureUploader::~FeatureUploader() {
  if (!pinned_) return;
  try {
    ag::cuda::synchronize();
  } catch (const std::exception& e) {
    std::cerr << "FeatureUploader: " << e.what() << "\n";
  }
}

ag::Tensor FeatureUploader::operator()(const ag::Tensor& feats) {
  if (feats.device() == device_) return feats;
  if (device_ != ag::Device::cuda || feats.device() != ag::Device::cpu)
    return ag::to_device(feats, device_);
  const size_t bytes = static_cast<size_t>(feats.numel()) * ag::dtype_size(feats.dtype());
  ag::Tensor out = ag::empty(feats.shape(), feats.dtype(), device_);
  if (bytes == 0) return out;
  if (pinned_) ag::cuda::synchronize();  // the previous upload has left the staging buffer
  if (!pinned_ || pinned_->bytes() < bytes) {
    const size_t grown = pinned_ ? 2 * pinned_->bytes() : 0;
    pinned_.reset();
    pinned_ = std::make_unique<ag::cuda::PinnedBuffer>(std::max(bytes, grown));
  }
  std::memcpy(pinned_->data(), feats.raw(), bytes);
  ag::cuda::copy_to_device_async(out, *pinned_);
  return out;
}

}  // namespace asr
