// NumPy broadcasting rules shared by the element-wise ops.
#pragma once
#include "../kernels/elementwise.h"
#include "../tensor.h"

namespace ag {

// The broadcast shape of a and b; throws naming `op` and both shapes when they clash.
Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op);
// Strides of a and b over `out` (a shape both broadcast to), with mergeable dims merged.
kernels::BroadcastPlan make_broadcast_plan(const Shape& a, const Shape& b, const Shape& out);

}  // namespace ag
