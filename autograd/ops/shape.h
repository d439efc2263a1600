// Shape ops. Tensors are always contiguous: reshape shares storage, the others copy.
#pragma once
#include "../tensor.h"

namespace ag {

// Same data in a new shape; one dim may be -1 (inferred). Shares storage.
Tensor reshape(const Tensor& x, const Shape& shape);
inline Tensor view(const Tensor& x, const Shape& shape) { return reshape(x, shape); }
Tensor flatten(const Tensor& x, int64_t start_dim = 0, int64_t end_dim = -1);
Tensor unsqueeze(const Tensor& x, int64_t dim);
Tensor squeeze(const Tensor& x, int64_t dim);  // dim must have size 1

// x [.., A, .., B, ..] -> [.., B, .., A, ..] (dims d0 and d1 swapped)
Tensor transpose(const Tensor& x, int64_t d0, int64_t d1);
// out.size(i) = x.size(dims[i]); e.g. [B, T, H, D] with {0, 2, 1, 3} -> [B, H, T, D]
Tensor permute(const Tensor& x, const std::vector<int64_t>& dims);

// x [.., N, ..] -> [.., length, ..]: elements start .. start + length - 1 along dim
// (a negative start counts from the end).
Tensor narrow(const Tensor& x, int64_t dim, int64_t start, int64_t length);
// Python's x[.., start:end:step, ..] along dim: negative start / end count from the end,
// both are clamped to [0, N]; step > 0.
Tensor slice(const Tensor& x, int64_t dim, int64_t start, int64_t end, int64_t step = 1);

// xs[k] [.., N_k, ..] -> [.., sum N_k, ..]; all other dims equal.
Tensor concat(const std::vector<Tensor>& xs, int64_t dim);
// xs[k] [S...] (all the same shape) -> [S with K inserted at dim]
Tensor stack(const std::vector<Tensor>& xs, int64_t dim);
// x [.., N, ..] -> pieces [.., sizes[k], ..]; sizes sum to N.
std::vector<Tensor> split(const Tensor& x, const std::vector<int64_t>& sizes, int64_t dim);
// x [.., N, ..] -> pieces of ceil(N / chunks) along dim, the last one smaller (as torch.chunk,
// which may return fewer than `chunks` pieces).
std::vector<Tensor> chunk(const Tensor& x, int64_t chunks, int64_t dim);

// torch.nn.functional.pad: pads = (left, right) pairs from the last dim backwards, e.g.
// {1, 2} pads the last dim, {1, 2, 0, 3} also the one before it; negative pads crop.
Tensor pad(const Tensor& x, const std::vector<int64_t>& pads, float value = 0);

// Gated linear unit: x [.., 2H, ..] -> first half * sigmoid(second half) [.., H, ..].
Tensor glu(const Tensor& x, int64_t dim = -1);

}  // namespace ag
