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

}  // namespace ag
