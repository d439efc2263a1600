#include "checkpoint.h"

#include "autograd/ops.h"

namespace nn {
namespace {
// Puts the generator's engine back on destruction.
class RestoreEngine {
 public:
  explicit RestoreEngine(ag::Generator& gen) : gen_(gen), saved_(gen.engine()) {}
  ~RestoreEngine() { gen_.engine() = saved_; }

 private:
  ag::Generator& gen_;
  std::mt19937_64 saved_;
};

// Re-runs fn with recording on detached inputs and back-propagates `grad`; returns the
// inputs' gradients (undefined where an input needs none).
std::vector<Tensor> recompute(const Segment& fn, const std::vector<Tensor>& inputs,
                              const std::vector<Tensor>& keep, const std::mt19937_64& engine,
                              const Tensor& grad) {
  std::vector<Tensor> leaves;  // fresh leaves for the inputs needing gradients
  for (const Tensor& in : inputs) {
    if (!in.defined()) { leaves.emplace_back(); continue; }
    Tensor leaf = in.detach();
    if (in.requires_grad()) leaf.set_requires_grad(true);
    leaves.push_back(leaf);
  }
  std::vector<Tensor> saved;
  for (const Tensor& t : keep) saved.push_back(ag::clone_data(t));
  Tensor out;
  {
    RestoreEngine restore(ag::default_generator());
    ag::default_generator().engine() = engine;
    ag::GradModeGuard record(true);
    out = fn(leaves);
  }
  for (size_t i = 0; i < keep.size(); ++i) ag::copy_(keep[i], saved[i]);
  if (out.requires_grad()) ag::backward(out, grad);
  std::vector<Tensor> grads;
  for (size_t i = 0; i < inputs.size(); ++i)
    grads.push_back(inputs[i].defined() && inputs[i].requires_grad() ? leaves[i].grad() : Tensor());
  return grads;
}
}  // namespace

Tensor checkpoint(const Segment& fn, const std::vector<Tensor>& inputs,
                  const std::vector<Tensor>& keep) {
  if (!ag::grad_enabled()) return fn(inputs);
  const std::mt19937_64 engine = ag::default_generator().engine();
  Tensor out;
  {
    ag::NoGradGuard no_grad;
    out = fn(inputs);
  }
  // Parameters inside fn are invisible to attach(): when no input needs a gradient, an
  // anchor leaf makes the node exist so that backward reaches the re-run.
  std::vector<Tensor> node_inputs = inputs;
  node_inputs.push_back(ag::zeros({}).set_requires_grad(true));
  return ag::attach(out, "checkpoint", node_inputs,
                    [fn, inputs, keep, engine](const Tensor& g, const ag::Needs&) {
                      return recompute(fn, inputs, keep, engine, g);
                    });
}

}  // namespace nn
