// Softmax and log-softmax along one dim, numerically stable (the max is subtracted first),
// each a single fused kernel forward and backward.
//
// x [..., n, ...] -> same shape; entries of -inf get probability 0 (log-probability -inf).
// A slice that is entirely -inf (or holds a NaN or +inf) gives NaN, as in PyTorch.
#pragma once
#include "../random.h"
#include "../tensor.h"

namespace ag {

Tensor softmax(const Tensor& x, int64_t dim);
Tensor log_softmax(const Tensor& x, int64_t dim);

// Attention weights in one op: scores [B, H, T, S] -> the softmax over S of the keys `keep`
// allows (keep: uint8 [B, 1, S] or [B, T, S], nonzero = may attend; undefined: every key),
// exactly 0 at the others (a row with no key allowed is all 0, as ESPnet's), then inverted
// dropout with probability p when training (dropout.h; the mask from one draw of `gen`).
// Backward reads only the softmax output and the dropout seed.
Tensor masked_softmax(const Tensor& scores, const Tensor& keep, float p, bool training,
                      Generator& gen = default_generator());

}  // namespace ag
