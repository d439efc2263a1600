#include "optim.h"

#include <cmath>
#include <map>

#include "autograd/copy.h"
#include "autograd/kernels/optim.h"
#include "autograd/tensor.h"

namespace nn {

Optimizer::Optimizer(NamedTensors params, float lr) : lr(lr), params_(std::move(params)) {
  AG_CHECK(lr >= 0, "optimizer: negative learning rate ", lr);
  for (auto& [name, p] : params_)
    AG_CHECK(p.requires_grad(), "optimizer: parameter '", name, "' does not require grad");
}

void Optimizer::zero_grad() {
  for (auto& [name, p] : params_) p.set_grad(Tensor());
}

Tensor& Optimizer::slot(const std::string& slot_name, size_t i) {
  size_t s = 0;
  while (s < slot_names_.size() && slot_names_[s] != slot_name) ++s;
  if (s == slot_names_.size()) {
    slot_names_.push_back(slot_name);
    slots_.emplace_back(params_.size());
  }
  Tensor& t = slots_[s][i];
  const Tensor& p = params_[i].second;
  if (!t.defined()) t = ag::zeros(p.shape(), ag::DType::f32, p.device());
  // State follows its parameter (a model moved by Module::to after some steps).
  if (t.device() != p.device()) t = ag::to_device(t, p.device());
  return t;
}

NamedTensors Optimizer::state() const {
  NamedTensors out;
  out.emplace_back("step", ag::from_int_vector({steps_}, {1}));
  for (size_t s = 0; s < slot_names_.size(); ++s)
    for (size_t i = 0; i < params_.size(); ++i)
      if (slots_[s][i].defined()) out.emplace_back(slot_names_[s] + "." + params_[i].first, slots_[s][i]);
  return out;
}

void Optimizer::load_state(const NamedTensors& state) {
  std::map<std::string, Tensor> given(state.begin(), state.end());
  auto step = given.find("step");
  AG_CHECK(step != given.end() && step->second.dtype() == ag::DType::i64,
           "optimizer state: no 'step' entry");
  steps_ = step->second.to_int_vector()[0];
  given.erase(step);
  std::map<std::string, size_t> index;
  for (size_t i = 0; i < params_.size(); ++i) index[params_[i].first] = i;
  for (auto& [key, t] : given) {
    size_t dot = key.find('.');
    AG_CHECK(dot != std::string::npos, "optimizer state: malformed entry '", key, "'");
    auto it = index.find(key.substr(dot + 1));
    AG_CHECK(it != index.end(), "optimizer state: '", key, "' names no parameter of the model");
    Tensor& dst = slot(key.substr(0, dot), it->second);
    AG_CHECK(dst.shape() == t.shape(), "optimizer state: '", key, "' has shape ",
             ag::shape_str(t.shape()), ", the parameter ", ag::shape_str(dst.shape()));
    ag::copy_(dst, t);  // a CPU checkpoint into state on the parameter's device
  }
}

namespace {
// The gradient an update reads: on its parameter's device (kernels take raw pointers).
Tensor grad_of(const std::string& name, const Tensor& p) {
  Tensor g = p.grad();
  AG_CHECK(!g.defined() || g.device() == p.device(), "optimizer: gradient of '", name, "' is on ",
           ag::device_name(g.device()), ", the parameter on ", ag::device_name(p.device()));
  return g;
}
}  // namespace

SGD::SGD(NamedTensors params, float lr, float momentum, float weight_decay, bool nesterov)
    : Optimizer(std::move(params), lr), momentum(momentum), weight_decay(weight_decay), nesterov(nesterov) {}

void SGD::step() {
  ++steps_;
  for (size_t i = 0; i < params_.size(); ++i) {
    Tensor& p = params_[i].second;
    Tensor g = grad_of(params_[i].first, p);
    if (!g.defined()) continue;
    float* buf = momentum != 0 ? slot("momentum_buffer", i).data() : nullptr;
    ag::kernels::SgdParams s{lr, momentum, weight_decay, nesterov};
    ag::kernels::sgd_step[p.device()](p.data(), g.data(), buf, p.numel(), s);
    p.mark_modified();
  }
}

Adam::Adam(NamedTensors params, float lr, float beta1, float beta2, float eps, float weight_decay,
           bool decoupled)
    : Optimizer(std::move(params), lr), beta1(beta1), beta2(beta2), eps(eps),
      weight_decay(weight_decay), decoupled(decoupled) {
  AG_CHECK(beta1 >= 0 && beta1 < 1 && beta2 >= 0 && beta2 < 1, "adam: betas (", beta1, ", ",
           beta2, ") outside [0, 1)");
}

void Adam::step() {
  ++steps_;
  ag::kernels::AdamParams a{lr, beta1, beta2, eps, weight_decay, decoupled,
                            1.0f - std::pow(beta1, static_cast<float>(steps_)),
                            1.0f - std::pow(beta2, static_cast<float>(steps_))};
  for (size_t i = 0; i < params_.size(); ++i) {
    Tensor& p = params_[i].second;
    Tensor g = grad_of(params_[i].first, p);
    if (!g.defined()) continue;
    Tensor& m = slot("exp_avg", i);
    Tensor& v = slot("exp_avg_sq", i);
    ag::kernels::adam_step[p.device()](p.data(), g.data(), m.data(), v.data(), p.numel(), a);
    p.mark_modified();
  }
}

float grad_norm(const NamedTensors& params) {
  double total = 0;
  for (auto& [name, p] : params)
    if (Tensor g = p.grad(); g.defined())
      total += ag::kernels::sum_squares[g.device()](g.data(), g.numel());
  return static_cast<float>(std::sqrt(total));
}

float clip_grad_norm(const NamedTensors& params, float max_norm) {
  float norm = grad_norm(params);
  if (!std::isfinite(norm) || norm <= max_norm) return norm;
  float s = max_norm / (norm + 1e-6f);
  for (auto& [name, p] : params)
    if (Tensor g = p.grad(); g.defined()) {
      ag::kernels::scale[g.device()](g.data(), g.numel(), s);
      g.mark_modified();
    }
  return norm;
}

}  // namespace nn
