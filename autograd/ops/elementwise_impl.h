// Shared by the element-wise ops: unary kernels as differentiable ops.
#pragma once
#include "../kernels/elementwise.h"
#include "../tensor.h"

namespace ag::detail {

// y = f(x) through the unary kernel, with its fused backward attached.
Tensor unary_op(kernels::UnaryOp op, const char* name, const Tensor& x, float p0 = 0,
                float p1 = 0);
void check_float(const Tensor& t, const char* op);

}  // namespace ag::detail
