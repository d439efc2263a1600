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
    if (next < node->next.size()) {
      const std::shared_ptr<Node>& in = node->next[next++].node;
      if (in && seen.insert(in.get()).second) stack.emplace_back(in, 0);
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

// The leaf's gradient accumulator: the one a live graph already uses, else a new one.
std::shared_ptr<Node> accumulator_of(const Tensor& leaf) {
  TensorImpl& impl = leaf.impl();
  if (std::shared_ptr<Node> acc = impl.grad_accumulator.lock()) return acc;
  auto acc = std::make_shared<Node>();
  acc->name = "accumulate_grad";
  acc->leaf = leaf.impl_ptr();
  impl.grad_accumulator = acc;
  return acc;
}
// Throws when a tensor the node saved was written in place since the op ran. (Storage no
// longer alive was not held by the closure, so the closure cannot read it.)
void check_saved_versions(const Node& node) {
  for (const SavedVersion& s : node.saved) {
    std::shared_ptr<Storage> storage = s.storage.lock();
    if (storage && storage->version() != s.version)
      detail::fail("backward of '", node.name, "': the tensor it saved as '", s.name,
                   "' was modified in place after the forward pass (version ", s.version,
                   " then, ", storage->version(), " now), so its gradient would be wrong; "
                   "write to a copy, or run backward before the write");
  }
}
}  // namespace

Node::~Node() {
  // Frees a long chain of nodes this one alone keeps alive without recursing through their
  // destructors: their edges are moved here first.
  std::vector<std::shared_ptr<Node>> pending;
  for (Edge& e : next) pending.push_back(std::move(e.node));
  next.clear();
  while (!pending.empty()) {
    std::shared_ptr<Node> n = std::move(pending.back());
    pending.pop_back();
    if (n && n.use_count() == 1) {
      for (Edge& e : n->next) pending.push_back(std::move(e.node));
      n->next.clear();
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

Tensor attach(Tensor out, const char* name, const std::vector<Tensor>& inputs,
              const std::vector<Saved>& saved, BackwardFn fn) {
  if (!t_grad_enabled) return out;
  auto node = std::make_shared<Node>();
  bool any = false;
  for (const Tensor& in : inputs) {
    const bool needs = in.defined() && in.requires_grad();
    node->next.push_back(!needs ? Edge{}
                                : Edge{in.grad_fn() ? in.grad_fn() : accumulator_of(in), in.shape()});
    any |= needs;
  }
  if (!any) return out;
  node->name = name;
  node->backward = std::move(fn);
  for (const Saved& t : saved)
    if (t.tensor.defined())
      node->saved.push_back({t.name, t.tensor.impl().storage, t.tensor.version()});
  out.impl().grad_fn = std::move(node);
  out.impl().requires_grad = true;
  return out;
}

namespace {
// The reverse pass behind backward() and grad(). A leaf listed in `capture` (its impl -> slot
// in `captured`) gets its gradient there, with no accumulation into .grad and no hook.
void run_backward(const Tensor& root, const Tensor& grad, bool retain_graph,
                  const std::unordered_map<const TensorImpl*, size_t>& capture,
                  std::vector<Tensor>& captured) {
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
  // A leaf's gradient is final: captured, or accumulated into .grad with its hooks run.
  auto leaf_done = [&](const std::shared_ptr<TensorImpl>& leaf, Tensor g) {
    if (auto slot = capture.find(leaf.get()); slot != capture.end()) {
      captured[slot->second] = std::move(g);
      return;
    }
    if (g.defined()) accumulate_leaf(leaf.get(), std::move(g));
    Tensor t(leaf);
    for (auto& hook : leaf->hooks) hook(t);
  };
  if (root.is_leaf()) {
    leaf_done(root.impl_ptr(), root_grad);
    return;
  }
  std::vector<std::shared_ptr<Node>> order = topological_order(root.grad_fn());

  // The gradient reaching each node (an op's output, or a leaf through its accumulator).
  std::unordered_map<Node*, Tensor> grads;
  grads[root.grad_fn().get()] = root_grad;
  for (const auto& node : order) {
    auto it = grads.find(node.get());
    Tensor g = it == grads.end() ? Tensor() : std::move(it->second);
    if (it != grads.end()) grads.erase(it);
    if (node->leaf) {  // every node feeding it has run
      leaf_done(node->leaf, std::move(g));
      continue;
    }
    std::vector<Tensor> in_grads;
    Needs needs;
    for (const Edge& e : node->next) needs.bits.push_back(e.node != nullptr);
    if (g.defined()) {
      check_saved_versions(*node);
      in_grads = node->backward(g, needs);
    }
    g = Tensor();
    for (size_t i = 0; i < node->next.size(); ++i) {
      const Edge& e = node->next[i];
      if (!e.node) continue;
      Tensor gi = i < in_grads.size() ? std::move(in_grads[i]) : Tensor();
      if (!gi.defined()) continue;
      AG_CHECK(gi.shape() == e.shape, "backward of ", node->name, ": gradient ",
               shape_str(gi.shape()), " for input ", i, " of shape ", shape_str(e.shape));
      auto [slot, fresh] = grads.try_emplace(e.node.get(), gi);
      if (!fresh) slot->second = add(slot->second, gi);
    }
    if (!retain_graph) {
      node->backward = nullptr;
      node->saved.clear();
      node->next.clear();
      node->released = true;
    }
  }
}
}  // namespace

void backward(const Tensor& root, const Tensor& grad, bool retain_graph) {
  std::vector<Tensor> none;
  run_backward(root, grad, retain_graph, {}, none);
}

std::vector<Tensor> grad(const Tensor& root, const Tensor& root_grad,
                         const std::vector<Tensor>& inputs, bool retain_graph) {
  std::unordered_map<const TensorImpl*, size_t> capture;
  for (size_t i = 0; i < inputs.size(); ++i) {
    AG_CHECK(inputs[i].defined() && inputs[i].is_leaf() && inputs[i].requires_grad(),
             "grad: input ", i, " is not a leaf that requires grad");
    AG_CHECK(capture.emplace(&inputs[i].impl(), i).second, "grad: input ", i,
             " is listed twice");
  }
  std::vector<Tensor> captured(inputs.size());
  run_backward(root, root_grad, retain_graph, capture, captured);
  return captured;
}

}  // namespace ag
