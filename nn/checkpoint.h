// Activation checkpointing: run a segment without keeping its intermediate tensors and
// recompute them in backward.
#pragma once
#include <functional>
#include <vector>

#include "autograd/tensor.h"

namespace nn {

using ag::Tensor;
using Segment = std::function<Tensor(const std::vector<Tensor>&)>;

// Runs fn(inputs) without recording; the result's backward re-runs fn with recording (on
// detached copies of the inputs) and back-propagates the incoming gradient through it.
// `params` lists the parameters fn uses: their gradients from the re-run leave the segment
// through the checkpoint's node into the outer backward pass, so a parameter used inside and
// outside the segment (or in several segments) receives its whole gradient, and its grad-ready
// hook (data-parallel all-reduce) runs once, when every use has contributed. A parameter fn
// uses but `params` omits gets its gradient inside the re-run, and its hook then, early.
// The default random generator's state is saved before the first run and restored for the
// re-run, so dropout masks repeat; afterwards it is put back. `keep` lists tensors (e.g.
// BatchNorm running statistics) whose contents the re-run must not change: they are saved
// before it and restored after, so they are updated once. Inputs may be undefined. Under
// ag::NoGradGuard it is plain fn(inputs).
Tensor checkpoint(const Segment& fn, const std::vector<Tensor>& inputs,
                  const std::vector<Tensor>& keep = {}, const std::vector<Tensor>& params = {});

}  // namespace nn
