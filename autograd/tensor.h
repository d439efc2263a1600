// Tensor: a shared handle to contiguous row-major storage with a shape, dtype, device
// and autograd state. Copying a Tensor copies the handle, not the data.
#pragma once
#include <atomic>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <iosfwd>
#include <memory>
#include <vector>

#include "device.h"
#include "error.h"

namespace ag {

using Shape = std::vector<int64_t>;
class Tensor;
struct Node;

// Storage: one allocation from the device's caching allocator, with a version counter that
// every in-place write bumps (fill, copy_, the optimizers' and BatchNorm's updates; code
// writing an existing tensor through data() calls Tensor::mark_modified()). backward()
// compares the versions of the tensors an op saved with those at the forward pass.
class Storage {
 public:
  Storage(Device device, size_t bytes);
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;
  void* data() const { return data_; }
  size_t bytes() const { return bytes_; }
  Device device() const { return device_; }
  uint32_t version() const { return version_.load(std::memory_order_relaxed); }
  void bump_version() { version_.fetch_add(1, std::memory_order_relaxed); }

 private:
  void* data_;
  size_t bytes_;
  size_t block_bytes_;  // what the allocator handed out (>= bytes_)
  Device device_;
  std::atomic<uint32_t> version_{0};
};

// Called once per backward pass when a leaf's gradient is final.
using GradReadyHook = std::function<void(const Tensor& leaf)>;

struct TensorImpl {
  std::shared_ptr<Storage> storage;
  Shape shape;
  DType dtype = DType::f32;
  bool requires_grad = false;
  std::shared_ptr<Node> grad_fn;  // the op that made this tensor; null for leaves
  std::weak_ptr<Node> grad_accumulator;  // a leaf's, while some graph uses it (autograd.h)
  std::shared_ptr<TensorImpl> grad;
  std::vector<GradReadyHook> hooks;
};

int64_t numel_of(const Shape& shape);

class Tensor {
 public:
  Tensor() = default;  // undefined: no storage
  explicit Tensor(std::shared_ptr<TensorImpl> impl) : impl_(std::move(impl)) {}

  bool defined() const { return impl_ != nullptr; }
  const Shape& shape() const { return impl().shape; }
  int64_t dim() const { return static_cast<int64_t>(shape().size()); }
  int64_t size(int64_t d) const;  // negative d counts from the end
  int64_t numel() const { return numel_of(shape()); }
  DType dtype() const { return impl().dtype; }
  Device device() const { return impl().storage->device(); }

  // Raw element pointers (device memory for CUDA tensors).
  float* data() const;  // float32 tensors only
  template <class T>
  T* data_as() const { return static_cast<T*>(impl().storage->data()); }
  void* raw() const { return impl().storage->data(); }
  // The storage's version (above); mark_modified() records an in-place write made through
  // data() or raw().
  uint32_t version() const { return impl().storage->version(); }
  void mark_modified() const { impl().storage->bump_version(); }

  // Autograd state.
  bool requires_grad() const { return impl().requires_grad; }
  Tensor& set_requires_grad(bool r);  // leaves only
  bool is_leaf() const { return impl().grad_fn == nullptr; }
  Tensor grad() const { return Tensor(impl().grad); }
  void set_grad(const Tensor& g);
  const std::shared_ptr<Node>& grad_fn() const { return impl().grad_fn; }
  // Same storage, cut from the graph.
  Tensor detach() const;
  // This tensor when already on `d`, else a copy there (no grad; see copy.h).
  Tensor to(Device d) const;
  // Rebinds this leaf to src's storage (same shape and dtype, any device), as PyTorch's
  // `p.data = src`: every handle of this tensor sees the new data; requires_grad and the
  // grad-ready hooks stay, the gradient is dropped. Module::to moves parameters with it.
  void set_data(const Tensor& src);
  // Reverse-mode pass from this tensor (see autograd.h).
  void backward(const Tensor& grad = Tensor(), bool retain_graph = false) const;
  // `hook` runs when this leaf's gradient is final in a backward pass.
  void register_grad_ready_hook(GradReadyHook hook);

  // Element access on CPU tensors, for tests and small reads.
  float item() const;
  float at(std::initializer_list<int64_t> index) const;
  std::vector<float> to_vector() const;
  std::vector<int64_t> to_int_vector() const;

  TensorImpl& impl() const;
  const std::shared_ptr<TensorImpl>& impl_ptr() const { return impl_; }
  bool same(const Tensor& o) const { return impl_ == o.impl_; }

 private:
  std::shared_ptr<TensorImpl> impl_;
};

// Creation. Shapes are row-major; every tensor is contiguous.
Tensor empty(const Shape& shape, DType dtype = DType::f32, Device device = Device::cpu);
Tensor zeros(const Shape& shape, DType dtype = DType::f32, Device device = Device::cpu);
Tensor ones(const Shape& shape, Device device = Device::cpu);
Tensor full(const Shape& shape, float value, Device device = Device::cpu);
Tensor arange(int64_t n, DType dtype = DType::f32);  // 0, 1, ..., n-1 on the CPU
Tensor from_vector(const std::vector<float>& values, const Shape& shape);
Tensor from_int_vector(const std::vector<int64_t>& values, const Shape& shape);
Tensor from_mask(const std::vector<bool>& values, const Shape& shape);     // bool
// A tensor with new storage of the same shape, dtype and device; no grad.
Tensor empty_like(const Tensor& t);
// Wraps a dim index: -1 is the last dim. Throws naming `op` when out of range.
int64_t wrap_dim(int64_t d, int64_t ndim, const char* op);

std::ostream& operator<<(std::ostream& os, const Tensor& t);

}  // namespace ag
