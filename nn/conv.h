// Convolution layers holding PyTorch-shaped parameters (Conv1d weight [out, in/groups, K],
// Conv2d weight [out, in, KH, KW], bias [out]), initialized as PyTorch's.
#pragma once
#include <array>

#include "module.h"

namespace nn {

struct Conv1dOptions {
  int64_t padding = 0;  // zeros on both sides
  int64_t groups = 1;
  bool causal = false;  // pad kernel-1 zeros on the left only (padding must be 0)
};

class Conv1d : public Module {
 public:
  Conv1d(int64_t in, int64_t out, int64_t kernel, Conv1dOptions options = {});
  // x [N, in, L] -> [N, out, L_out] (stride 1: L_out = L + 2*padding - kernel + 1, or L
  // when causal)
  Tensor forward(const Tensor& x) const;
  // Streaming: x [N, in, T] the next frames, continuing from cache [N, in, context] (undefined
  // at the start: zeros), the last context = left-padding input frames (kernel-1 when
  // causal, else padding), which it becomes afterwards. Exact when causal; a centred conv
  // gets zeros instead of the right context beyond the chunk. -> [N, out, T]
  Tensor forward_chunk(const Tensor& x, Tensor& cache) const;
  // A kernel-1, groups-1 conv applied on the channels-last layout, as a linear layer
  // through a free reshape of the weight: x [..., in] -> [..., out].
  Tensor forward_pointwise(const Tensor& x) const;

  Tensor weight;  // [out, in/groups, kernel]
  Tensor bias;    // [out]
  Conv1dOptions options;
};

class Conv2d : public Module {
 public:
  Conv2d(int64_t in, int64_t out, int64_t kernel, int64_t stride);
  // x [N, in, H, W] -> [N, out, (H - kernel)/stride + 1, (W - kernel)/stride + 1]
  Tensor forward(const Tensor& x) const;

  Tensor weight;  // [out, in, kernel, kernel]
  Tensor bias;    // [out]
  int64_t stride;
};

}  // namespace nn
