#include "autograd.h"

#include <unordered_map>
#include <unordered_set>

#include "copy.h"
#include "ops/binary.h"

namespace ag {
namespace {
thread_local bool t_grad_enabled = true;

// Nodes reachable from root, each before every node it feeds: a DFS post-order,
// reversed. Iterative, so deep graphs (long recurrences) cannot overflow the stack.
// Nodes are held, not tensors: a tensor dies as soon as the nodes using it have run.
std::vector<std::shared_ptr<Node>> topological_order(const std::shared_ptr<Node>& root) {
  std::vector<std::shared_ptr<Node>> post;
  std::unordered_set<Node*> seen{root.get()};
  std::vector<std::pair<std::shared_ptr<Node>, size_t>> stack{{root, 0}};
  while (!stack.empty()) {
    auto& [node, next] = stack.back();
    if (node->released)
      detail::fail("backward: the graph through '", node->name,
                   "' was already released by an earlier backward(); pass retain_graph=true "
                   "to the first call to go through it twice");
    if (next < node->inputs.size()) {
      const Tensor& in = node->inputs[next++];
      if (in.defined() && in.grad_fn() && seen.insert(in.grad_fn().get()).second)
        stack.emplace_back(in.grad_fn(), 0);
      continue;
    }
    post.push_back(std::move(node));
    stack.pop_back();
  }
  return {post.rbegin(), post.rend()};
}

// A leaf's gradient must own its storage (optimizers and clipping update it in place),
// while a closure may hand the same buffer to several inputs.
Tensor owned(Tensor g) {
  return g.impl_ptr().use_count() == 1 && g.impl().storage.use_count() == 1 ? g : clone_data(g);
}

void accumulate_leaf(TensorImpl* leaf, Tensor g) {
  Tensor current(leaf->grad);
  leaf->grad = (current.defined() ? add(current, g) : owned(std::move(g))).impl_ptr();
}
}  // namespace

Node::~Node() {
  std::vector<Tensor> pending = std::move(inputs);
  while (!pending.empty()) {
    Tensor t = std::move(pending.back());
    pending.pop_back();
    // Last owner of t and of its node: take the node's inputs before t dies.
    if (t.defined() && t.impl_ptr().use_count() == 1 && t.grad_fn() &&
        t.grad_fn().use_count() == 1) {
      auto& next = t.grad_fn()->inputs;
      for (Tensor& in : next) pending.push_back(std::move(in));
      next.clear();
    }
  }
}

bool grad_enabled() { return t_grad_enabled; }

NoGradGuard::NoGradGuard() : previous_(t_grad_enabled) { t_grad_enabled = false; }
NoGradGuard::~NoGradGuard() { t_grad_enabled = previous_; }

GradModeGuard::GradModeGuard(bool enabled) : previous_(t_grad_enabled) {
  t_grad_enabled = enabled;
}
GradModeGuard::~GradModeGuard() { t_grad_enabled = previous_; }

Tensor attach(Tensor out, const char* name, const std::vector<Tensor>& inputs, BackwardFn fn) {
  if (!t_grad_enabled) return out;
  auto node = std::make_shared<Node>();
  bool any = false;
  for (const Tensor& in : inputs) {
    bool needs = in.defined() && in.requires_grad();
    node->inputs.push_back(needs ? in : Tensor());
    any |= needs;
  }
  if (!any) return out;
  node->name = name;
  node->backward = std::move(fn);
  out.impl().grad_fn = std::move(node);
  out.impl().requires_grad = true;
  return out;
}

void backward(const Tensor& root, const Tensor& grad, bool retain_graph) {
  AG_CHECK(root.requires_grad(), "backward: the tensor does not require grad (no input of the "
                                 "ops that made it requires grad, or it was made under no_grad)");
  if (grad.defined()) {
    AG_CHECK(grad.shape() == root.shape(), "backward: gradient ", shape_str(grad.shape()),
             " for output ", shape_str(root.shape()));
  } else {
    AG_CHECK(root.numel() == 1, "backward: output of shape ", shape_str(root.shape()),
             " is not a scalar; pass a gradient of that shape");
  }
  NoGradGuard no_grad;
  Tensor root_grad = grad.defined() ? grad : full(root.shape(), 1.0f, root.device());
  if (root.is_leaf()) {
    accumulate_leaf(root.impl_ptr().get(), root_grad);
    for (auto& hook : root.impl().hooks) hook(root);
    return;
  }
  std::vector<std::shared_ptr<Node>> order = topological_order(root.grad_fn());

  // Edges into each leaf: its gradient is final when all of them have delivered.
  std::unordered_map<TensorImpl*, int> pending;
  for (const auto& node : order)
    for (const Tensor& in : node->inputs)
      if (in.defined() && in.is_leaf()) ++pending[in.impl_ptr().get()];

  // Gradients of non-leaf tensors, keyed by the node that made each.
  std::unordered_map<Node*, Tensor> grads;
  grads[root.grad_fn().get()] = root_grad;
  for (const auto& node : order) {
    auto it = grads.find(node.get());
    Tensor g = it == grads.end() ? Tensor() : std::move(it->second);
    if (it != grads.end()) grads.erase(it);
    std::vector<Tensor> in_grads;
    Needs needs;
    for (const Tensor& in : node->inputs) needs.bits.push_back(in.defined());
    if (g.defined()) in_grads = node->backward(g, needs);
    g = Tensor();
    for (size_t i = 0; i < node->inputs.size(); ++i) {
      const Tensor& in = node->inputs[i];
      if (!in.defined()) continue;
      Tensor gi = i < in_grads.size() ? std::move(in_grads[i]) : Tensor();
      if (gi.defined())
        AG_CHECK(gi.shape() == in.shape(), "backward of ", node->name, ": gradient ",
                 shape_str(gi.shape()), " for input ", i, " of shape ", shape_str(in.shape()));
      if (in.is_leaf()) {
        TensorImpl* leaf = in.impl_ptr().get();
        if (gi.defined()) accumulate_leaf(leaf, std::move(gi));
        if (--pending[leaf] == 0)
          for (auto& hook : leaf->hooks) hook(in);
      } else if (gi.defined()) {
        auto [slot, fresh] = grads.try_emplace(in.grad_fn().get(), gi);
        if (!fresh) slot->second = add(slot->second, gi);
      }
    }
    if (!retain_graph) {
      node->backward = nullptr;
      node->inputs.clear();
      node->released = true;
    }
  }
}

}  // namespace ag
