// Indexing and mask kernels. Index tensors are int64, masks uint8 (0 or 1).
#pragma once
#include <cstdint>

#include "../dispatch.h"
#include "shape.h"

namespace ag::kernels {

// True when every idx[i] is in [0, size); else false with *first_bad (host memory) set
// to the first offending value.
using IndexInRangeFn = bool(const int64_t* idx, int64_t n, int64_t size, int64_t* first_bad);

// y[o, j, i] = x[o, idx[j], i]          x: [outer, n, inner], idx: [m], y: [outer, m, inner]
using IndexSelectFn = void(const float* x, const int64_t* idx, float* y, int64_t outer,
                           int64_t n, int64_t m, int64_t inner);
// gx[o, idx[j], i] += gy[o, j, i]       (repeated indices accumulate)
using IndexAddFn = void(const float* gy, const int64_t* idx, float* gx, int64_t outer,
                        int64_t n, int64_t m, int64_t inner);

// y[o, j, i] = x[o, idx[o, j, i], i]    x: [outer, n, inner], idx and y: [outer, m, inner]
using GatherFn = void(const float* x, const int64_t* idx, float* y, int64_t outer, int64_t n,
                      int64_t m, int64_t inner);
// gx[o, idx[o, j, i], i] += gy[o, j, i]
using ScatterAddFn = void(const float* gy, const int64_t* idx, float* gx, int64_t outer,
                          int64_t n, int64_t m, int64_t inner);

// y = mask ? value : x over the plan (stride[0]: x, [1]: mask); y is contiguous.
using MaskedFillFn = void(const float* x, const uint8_t* mask, float* y, float value,
                          const StridedPlan<2>& plan);
// out = cond ? a : b over the plan (stride[0]: cond, [1]: a, [2]: b); out is contiguous.
using WhereFn = void(const uint8_t* cond, const float* a, const float* b, float* out,
                     const StridedPlan<3>& plan);
// y = !x
using LogicalNotFn = void(const uint8_t* x, uint8_t* y, int64_t n);

extern KernelTable<IndexInRangeFn> index_in_range;
extern KernelTable<IndexSelectFn> index_select;
extern KernelTable<IndexAddFn> index_add;
extern KernelTable<GatherFn> gather;
extern KernelTable<ScatterAddFn> scatter_add;
extern KernelTable<MaskedFillFn> masked_fill;
extern KernelTable<WhereFn> where;
extern KernelTable<LogicalNotFn> logical_not;

}  // namespace ag::kernels
