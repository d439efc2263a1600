// Temporary device memory from the CUDA caching allocator, returned when it goes out of scope.
// Stream order makes it safe to return while kernels that use it are still queued.
#pragma once
#include <cstddef>

#include "../allocator.h"

namespace ag::cuda {

class Scratch {
 public:
  explicit Scratch(size_t bytes) : ptr_(allocate(Device::cuda, bytes, &block_)) {}
  ~Scratch() { deallocate(Device::cuda, ptr_, block_); }
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;
  template <class T>
  T* as() const { return static_cast<T*>(ptr_); }

 private:
  size_t block_ = 0;
  void* ptr_;
};

}  // namespace ag::cuda
