// Indexing and masks. Indices are int64 tensors; masks are uint8 (bool) tensors, 1 = true.
#pragma once
#include "../tensor.h"

namespace ag {

// x [.., N, ..], index [M] in [0, N) -> [.., M, ..]; repeated indices accumulate gradient.
Tensor index_select(const Tensor& x, int64_t dim, const Tensor& index);
// As torch.gather: index has x's ndim and is no larger than x outside dim;
// out[.., j, ..] = x[.., index[.., j, ..], ..] along dim; out shape = index shape.
Tensor gather(const Tensor& x, int64_t dim, const Tensor& index);

// x where mask is 0, value where it is 1; mask broadcasts to x's shape. No gradient
// flows to filled positions.
Tensor masked_fill(const Tensor& x, const Tensor& mask, float value);
// cond ? a : b element-wise; cond (uint8), a and b broadcast together.
Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b);

// Masks (no gradient).
Tensor logical_not(const Tensor& mask);
// lengths [B] -> uint8 [B, max_len], 1 at frames t < lengths[b].
Tensor lengths_to_mask(const std::vector<int64_t>& lengths, int64_t max_len,
                       Device device = Device::cpu);

}  // namespace ag
