#include "module.h"

#include <map>

#include "autograd/copy.h"
#include "autograd/cuda.h"

namespace nn {

namespace {
std::string join(const std::string& prefix, const std::string& name) {
  return prefix.empty() ? name : prefix + "." + name;
}
}  // namespace

Tensor Module::register_parameter(const std::string& name, Tensor t) {
  t.set_requires_grad(true);
  params_.emplace_back(name, t);
  return t;
}

Tensor Module::register_buffer(const std::string& name, Tensor t) {
  buffers_.emplace_back(name, t);
  return t;
}

NamedTensors Module::named_parameters(const std::string& prefix) const {
  NamedTensors out;
  for (const auto& [name, t] : params_) out.emplace_back(join(prefix, name), t);
  for (const auto& [name, child] : children_) {
    NamedTensors sub = child->named_parameters(join(prefix, name));
    out.insert(out.end(), sub.begin(), sub.end());
  }
  return out;
}

NamedTensors Module::named_buffers(const std::string& prefix) const {
  NamedTensors out;
  for (const auto& [name, t] : buffers_) out.emplace_back(join(prefix, name), t);
  for (const auto& [name, child] : children_) {
    NamedTensors sub = child->named_buffers(join(prefix, name));
    out.insert(out.end(), sub.begin(), sub.end());
  }
  return out;
}

NamedTensors Module::state_dict() const {
  NamedTensors out = named_parameters();
  NamedTensors buffers = named_buffers();
  out.insert(out.end(), buffers.begin(), buffers.end());
  return out;
}

std::vector<Tensor> Module::parameters() const {
  std::vector<Tensor> out;
  for (auto& [name, t] : named_parameters()) out.push_back(t);
  return out;
}

std::vector<std::pair<std::string, const Module*>> Module::named_modules(
    const std::string& prefix) const {
  std::vector<std::pair<std::string, const Module*>> out{{prefix, this}};
  for (const auto& [name, child] : children_) {
    auto sub = child->named_modules(join(prefix, name));
    out.insert(out.end(), sub.begin(), sub.end());
  }
  return out;
}

int64_t Module::num_parameters() const {
  int64_t n = 0;
  for (const auto& [name, t] : named_parameters()) n += t.numel();
  return n;
}

std::vector<std::string> Module::load_state_dict(const NamedTensors& tensors, bool strict) {
  std::map<std::string, Tensor> given(tensors.begin(), tensors.end());
  NamedTensors mine = state_dict();
  std::vector<std::string> loaded;
  for (const auto& [name, dst] : mine) {
    auto it = given.find(name);
    if (it == given.end()) {
      AG_CHECK(!strict, "load: '", name, "' (shape ", ag::shape_str(dst.shape()),
               ") is missing from the checkpoint");
      continue;
    }
    const Tensor& src = it->second;
    AG_CHECK(src.shape() == dst.shape() && src.dtype() == dst.dtype(), "load: '", name,
             "' has shape ", ag::shape_str(src.shape()), " ", ag::dtype_name(src.dtype()),
             " in the checkpoint but ", ag::shape_str(dst.shape()), " ", ag::dtype_name(dst.dtype()),
             " in the model");
    loaded.push_back(name);
    given.erase(it);
  }
  if (strict && !given.empty())
    ag::detail::fail("load: the checkpoint has '", given.begin()->first,
                     "', which the model does not (", given.size(), " unexpected in all)");
  // Copy only after every check passed: a failed load leaves the model untouched.
  std::map<std::string, Tensor> src(tensors.begin(), tensors.end());
  for (const auto& [name, dst] : mine)
    if (auto it = src.find(name); it != src.end()) ag::copy_(dst, it->second);
  return loaded;
}

void Module::save(const std::string& path, const Metadata& metadata) const {
  save_safetensors(path, state_dict(), metadata);
}

Metadata Module::load(const std::string& path, bool strict) {
  SafetensorsFile f = load_safetensors(path);
  try {
    load_state_dict(f.tensors, strict);
  } catch (const ag::Error& e) {
    throw ag::Error(path + ": " + e.what());
  }
  return f.metadata;
}

void Module::to(ag::Device d) {
  if (d == ag::Device::cuda) {
    AG_CHECK(ag::cuda::built(), "Module::to(cuda): this build has no CUDA backend (configure "
                                "with -DLATENTASR_CUDA=ON where nvcc is installed)");
    AG_CHECK(ag::cuda::available(), "Module::to(cuda): no CUDA device answers "
                                    "(cudaGetDeviceCount found none)");
  }
  for (auto& [name, t] : state_dict()) {
    if (t.device() == d) continue;
    try {
      t.set_data(ag::to_device(t, d));
    } catch (const ag::Error& e) {
      throw ag::Error("Module::to(" + std::string(ag::device_name(d)) + "): moving '" + name +
                      "': " + e.what());
    }
  }
}

void Module::train(bool on) {
  training_ = on;
  for (auto& [name, child] : children_) child->train(on);
}

void Module::zero_grad() {
  for (auto& [name, t] : named_parameters()) t.set_grad(Tensor());
}

}  // namespace nn
