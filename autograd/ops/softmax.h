// Softmax and log-softmax along one dim, numerically stable (the max is subtracted first),
// each a single fused kernel forward and backward.
//
// x [..., n, ...] -> same shape; entries of -inf get probability 0 (log-probability -inf).
// A slice that is entirely -inf (or holds a NaN or +inf) gives NaN, as in PyTorch.
#pragma once
#include "../tensor.h"

namespace ag {

Tensor softmax(const Tensor& x, int64_t dim);
Tensor log_softmax(const Tensor& x, int64_t dim);

}  // namespace ag
