// Define-by-run reverse-mode autograd. Each differentiable op returns its result with a
// Node: an edge per input to where that input's gradient goes (the node that made the input,
// or a leaf's gradient accumulator) and a closure computing the inputs' gradients from the
// output's gradient. The graph holds nodes, never the inputs themselves: a tensor stays alive
// for backward only where a closure saved it, so each op keeps exactly what its backward reads.
// backward() sorts the graph topologically and runs the closures once in reverse, releasing
// each node's saved tensors as soon as it has run.
//
// Closures must capture outputs detached (`y.detach()`), never the output itself: the
// output owns the node, and the node must not own the output. Every tensor a closure
// captures that other code can also reach (an input, the output, an index or mask argument)
// is declared to attach() as Saved: backward() refuses to run the closure if one of them was
// written in place since (its storage's version moved on), naming the op and the tensor.
#pragma once
#include <functional>
#include <vector>

#include "tensor.h"

namespace ag {

// Which of a node's inputs need a gradient; a closure may skip the others.
struct Needs {
  std::vector<bool> bits;
  bool operator[](size_t i) const { return i < bits.size() && bits[i]; }
};

// grad_inputs[i] is the gradient for inputs[i] (undefined when not needed).
using BackwardFn = std::function<std::vector<Tensor>(const Tensor& grad_out, const Needs& needs)>;

struct Node;

// A tensor an op's closure reads in backward, by the name the error message uses.
struct Saved {
  const char* name;
  Tensor tensor;  // undefined: nothing saved under this name
};

// The version a saved tensor's storage had when the op ran.
struct SavedVersion {
  const char* name;
  std::weak_ptr<Storage> storage;
  uint32_t version;
};

// Where one input's gradient goes: the node that made the input (its grad_fn) or, for a leaf,
// the leaf's gradient accumulator; null where the input needs no gradient. `shape` is the
// input's, to check the gradient against.
struct Edge {
  std::shared_ptr<Node> node;
  Shape shape;
};

struct Node {
  const char* name;
  std::vector<Edge> next;  // one per input of the op
  BackwardFn backward;     // null for an accumulator
  std::vector<SavedVersion> saved;  // checked before `backward` runs
  // Set on a leaf's gradient accumulator only (name "accumulate_grad"): the leaf whose .grad
  // receives the gradient that reaches this node, and whose grad-ready hooks then run.
  std::shared_ptr<TensorImpl> leaf;
  bool released = false;

  Node() = default;
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;
  // Frees a long chain of unused nodes iteratively (no recursion through destructors).
  ~Node();
};

// Gradient recording is on unless a NoGradGuard is alive on this thread.
bool grad_enabled();

class NoGradGuard {
 public:
  NoGradGuard();
  ~NoGradGuard();
  NoGradGuard(const NoGradGuard&) = delete;
  NoGradGuard& operator=(const NoGradGuard&) = delete;

 private:
  bool previous_;
};

// Sets recording on or off for its lifetime, whatever it was before (activation
// checkpointing turns it back on to re-record a segment inside backward()).
class GradModeGuard {
 public:
  explicit GradModeGuard(bool enabled);
  ~GradModeGuard();
  GradModeGuard(const GradModeGuard&) = delete;
  GradModeGuard& operator=(const GradModeGuard&) = delete;

 private:
  bool previous_;
};

// Makes `out` the result of op `name` on `inputs` when recording is on and some input
// requires grad; otherwise returns `out` untouched and drops `fn`. `saved` lists the
// tensors fn captured that other code can write (see above).
Tensor attach(Tensor out, const char* name, const std::vector<Tensor>& inputs,
              const std::vector<Saved>& saved, BackwardFn fn);

// Runs the reverse pass from `root`. `grad` defaults to 1 for a one-element root and is
// required otherwise. Leaf gradients accumulate into .grad(). Unless `retain_graph`, the
// graph's saved tensors are released and a second pass through it throws.
void backward(const Tensor& root, const Tensor& grad = Tensor(), bool retain_graph = false);

// As torch.autograd.grad: the gradients of `root` (for `grad`, as backward()) with respect to
// `inputs`, leaves that require grad, returned (undefined where the graph does not reach
// one) instead of accumulated into .grad, and without running their grad-ready hooks.
// Other leaves the graph reaches are treated as backward() treats them.
std::vector<Tensor> grad(const Tensor& root, const Tensor& root_grad,
                         const std::vector<Tensor>& inputs, bool retain_graph = false);

}  // namespace ag
