// Module: named parameters, buffers and submodules with PyTorch-style dotted names
// (`encoder.layers.3.self_attn.linear_q.weight`), so a state dict maps one-to-one onto a
// PyTorch state_dict. Each layer declares its own forward(); the base class holds state.
#pragma once
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "autograd/tensor.h"
#include "safetensors.h"

namespace nn {

using ag::Tensor;

class Module {
 public:
  virtual ~Module() = default;
  Module() = default;
  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;

  // Parameters and buffers, depth first in registration order, with dotted names.
  NamedTensors named_parameters(const std::string& prefix = "") const;
  NamedTensors named_buffers(const std::string& prefix = "") const;
  NamedTensors state_dict() const;  // parameters, then buffers... per module, as PyTorch
  std::vector<Tensor> parameters() const;
  std::vector<std::pair<std::string, const Module*>> named_modules(const std::string& prefix = "") const;
  int64_t num_parameters() const;

  // Copies tensors into the parameters/buffers of the same name. Every entry of the model
  // must be present and every shape must match, unless `strict` is false (then missing or
  // unexpected names are skipped; shapes must still match). Returns the names loaded.
  std::vector<std::string> load_state_dict(const NamedTensors& tensors, bool strict = true);

  void save(const std::string& path, const Metadata& metadata = {}) const;
  // Loads a safetensors file written by save(); returns its metadata.
  Metadata load(const std::string& path, bool strict = true);

  // Moves every parameter and buffer to `d` in place (Tensor::set_data), so the handles
  // layers hold and an optimizer built before the move see the moved data; gradients are
  // dropped. A no-op for tensors already on `d`. A CUDA move without a GPU (or in a build
  // without the CUDA backend) throws, naming CUDA.
  void to(ag::Device d);

  void train(bool on = true);
  void eval() { train(false); }
  bool is_training() const { return training_; }
  void zero_grad();  // drops every parameter's gradient

 protected:
  // Registers a trainable leaf (requires_grad is set) and returns its handle.
  Tensor register_parameter(const std::string& name, Tensor t);
  Tensor register_buffer(const std::string& name, Tensor t);
  template <class M>
  std::shared_ptr<M> register_module(const std::string& name, std::shared_ptr<M> m) {
    children_.emplace_back(name, m);
    return m;
  }

 private:
  NamedTensors params_, buffers_;
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> children_;
  bool training_ = true;
};

// An indexable list of submodules named "0", "1", ... (PyTorch's nn.ModuleList).
template <class M>
class ModuleList : public Module {
 public:
  void push_back(std::shared_ptr<M> m) {
    items_.push_back(register_module(std::to_string(items_.size()), std::move(m)));
  }
  size_t size() const { return items_.size(); }
  M& operator[](size_t i) const { return *items_[i]; }
  auto begin() const { return items_.begin(); }
  auto end() const { return items_.end(); }

 private:
  std::vector<std::shared_ptr<M>> items_;
};

}  // namespace nn
