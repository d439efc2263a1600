// Strided copies: the one kernel behind permute, narrow, slice, concat and pad.
#pragma once
#include <cstdint>

#include "../dispatch.h"
#include "elementwise.h"

namespace ag::kernels {

// An index space with each of N operands' element strides over it. Dims of size 1 are
// dropped and adjacent dims merged where every operand allows (see ops/shape_impl.h).
template <int N>
struct StridedPlan {
  int ndim = 0;
  int64_t numel = 0;
  int64_t shape[kMaxDims];
  int64_t stride[N][kMaxDims];
};

// stride[0]: source, stride[1]: destination.
using CopyPlan = StridedPlan<2>;

// dst[index . stride[1]] = src[index . stride[0]] for every index of the plan.
using StridedCopyFn = void(const float* src, float* dst, const CopyPlan& plan);

extern KernelTable<StridedCopyFn> strided_copy;

}  // namespace ag::kernels
