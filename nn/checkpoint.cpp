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
// gradients of the inputs, then of the parameters (undefined where none is needed).
std::vector<Tensor> recompute(const Segment& fn, const std::vector<Tensor>& inputs,
                              const std::vector<Tensor>& params, const std::vector<Tensor>& keep,
                              const std::mt19937_64& engine, const Tensor& grad) {
  std::vector<Tensor> leaves;  // fresh leaves for the inputs
  for (const Tensor& in : inputs) {
    if (!in.defined()) { leaves.emplace_back(); continue; }
    Tensor leaf = in.detach();
    if (in.requires_grad()) leaf.set_requires_grad(true);
    leaves.push_back(leaf);
  }
  std::vector<Tensor> saved;
  std::vector<uint32_t> versions;
  for (const Tensor& t : keep) {
    saved.push_back(ag::clone_data(t));
    versions.push_back(t.version());
  }
  Tensor out;
  {
    RestoreEngine restore(ag::default_generator());
    ag::default_generator().engine() = engine;
    ag::GradModeGuard record(true);
    out = fn(leaves);
  }
  // Put back only what the re-run wrote: a copy is a write, and the re-run's graph may have
  // saved an untouched buffer (eval-mode BatchNorm's running mean).
  for (size_t i = 0; i < keep.size(); ++i)
    if (keep[i].version() != versions[i]) ag::copy_(keep[i], saved[i]);
  std::vector<Tensor> all = leaves;  // inputs, then parameters
  all.insert(all.end(), params.begin(), params.end());
  std::vector<Tensor> wrt;
  std::vector<size_t> where;
  for (size_t i = 0; i < all.size(); ++i)
    if (all[i].defined() && all[i].requires_grad()) {
      wrt.push_back(all[i]);
      where.push_back(i);
    }
  std::vector<Tensor> grads(all.size());
  if (out.requires_grad() && !wrt.empty()) {
    std::vector<Tensor> g = ag::grad(out, grad, wrt);
    for (size_t k = 0; k < wrt.size(); ++k) grads[where[k]] = g[k];
  } else if (out.requires_grad()) {
    ag::backward(out, grad);  // parameters not listed: their gradients accumulate here
  }
  return grads;
}
}  // namespace

Tensor checkpoint(const Segment& fn, const std::vector<Tensor>& inputs,
                  const std::vector<Tensor>& keep, const std::vector<Tensor>& params) {
  if (!ag::grad_enabled()) return fn(inputs);
  const std::mt19937_64 engine = ag::default_generator().engine();
  Tensor out;
  {
    ag::NoGradGuard no_grad;
    out = fn(inputs);
  }
  // The node's inputs: the segment's inputs, its parameters (so that their gradients flow
  // through the outer graph) and an anchor leaf that makes the node exist, so that backward
  // reaches the re-run, even when nothing listed needs a gradient.
  std::vector<Tensor> node_inputs = inputs;
  node_inputs.insert(node_inputs.end(), params.begin(), params.end());
  node_inputs.push_back(ag::zeros({}).set_requires_grad(true));
  std::vector<ag::Saved> saved;  // the re-run reads the inputs and parameters as they were
  for (const Tensor& in : inputs) saved.push_back({"segment input", in});
  for (const Tensor& p : params) saved.push_back({"segment parameter", p});
  return ag::attach(out, "checkpoint", node_inputs, saved,
                    [fn, inputs, params, keep, engine](const Tensor& g, const ag::Needs&) {
                      return recompute(fn, inputs, params, keep, engine, g);
                    });
}

}  // namespace nn
