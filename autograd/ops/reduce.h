// Reductions over given dims (negative dims count from the end; empty dims = all).
#pragma once
#include "../tensor.h"

namespace ag {

Tensor sum(const Tensor& x, std::vector<int64_t> dims = {}, bool keepdim = false);
Tensor mean(const Tensor& x, std::vector<int64_t> dims = {}, bool keepdim = false);
// Variance; unbiased (divides by n - 1) as torch.var's default.
Tensor var(const Tensor& x, std::vector<int64_t> dims = {}, bool unbiased = true,
           bool keepdim = false);
// Largest value along dim; the gradient goes to the first position holding it.
Tensor max(const Tensor& x, int64_t dim, bool keepdim = false);
Tensor max(const Tensor& x);  // over all elements
// Argmax along dim (int64, no gradient).
Tensor argmax(const Tensor& x, int64_t dim, bool keepdim = false);

// Sums `g` down to `shape` over the dims that broadcasting expanded (backward of broadcast).
Tensor sum_to(const Tensor& g, const Shape& shape);

}  // namespace ag
