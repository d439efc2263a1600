// Optimizers (SGD with momentum, Adam, AdamW) over named parameters, global-norm gradient
// clipping. State is named after the parameters so it can be checkpointed and resumed.
#pragma once
#include <memory>
#include <string>

#include "safetensors.h"

namespace nn {

using ag::Tensor;

class Optimizer {
 public:
  explicit Optimizer(NamedTensors params, float lr);
  virtual ~Optimizer() = default;
  // One update from the current gradients; parameters without a gradient are skipped.
  virtual void step() = 0;
  void zero_grad();

  float lr;
  int64_t steps() const { return steps_; }
  const NamedTensors& params() const { return params_; }

  // Moments etc. as `<slot>.<param name>` tensors plus the step count, for checkpoints.
  NamedTensors state() const;
  // Restores state(); throws naming the first missing or mismatched entry.
  void load_state(const NamedTensors& state);

 protected:
  // Per-parameter state slots (e.g. "exp_avg"), created lazily as zeros.
  Tensor& slot(const std::string& slot_name, size_t param_index);
  NamedTensors params_;
  int64_t steps_ = 0;

 private:
  std::vector<std::string> slot_names_;
  std::vector<std::vector<Tensor>> slots_;  // [slot][param]
};

class SGD : public Optimizer {
 public:
  SGD(NamedTensors params, float lr, float momentum = 0, float weight_decay = 0,
      bool nesterov = false);
  void step() override;
  float momentum, weight_decay;
  bool nesterov;
};

// Adam (L2 penalty added to the gradient) or, with decoupled = true, AdamW.
class Adam : public Optimizer {
 public:
  Adam(NamedTensors params, float lr, float beta1 = 0.9f, float beta2 = 0.999f,
       float eps = 1e-8f, float weight_decay = 0, bool decoupled = false);
  void step() override;
  float beta1, beta2, eps, weight_decay;
  bool decoupled;
};

// Scales all gradients so their global L2 norm is at most max_norm; returns the norm
// before clipping (inf or NaN norms are returned and nothing is scaled).
float clip_grad_norm(const NamedTensors& params, float max_norm);
// Global L2 norm of all gradients.
float grad_norm(const NamedTensors& params);

}  // namespace nn
