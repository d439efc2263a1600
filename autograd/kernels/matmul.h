// Strided batched GEMM on row-major contiguous matrices (cuBLAS's strided-batched shape).
#pragma once
#include <cstdint>

#include "../dispatch.h"

namespace ag::kernels {

// For i in [0, batch): C_i = alpha * op(A_i) op(B_i) + beta * C_i, where
// op(A_i) is [M, K] (A_i stored [K, M] when trans_a), op(B_i) is [K, N] (B_i stored [N, K]
// when trans_b), C_i is [M, N], and X_i = X + i * stride_x (a stride of 0 broadcasts).
using GemmFn = void(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha,
                    const float* A, int64_t stride_a, const float* B, int64_t stride_b,
                    float beta, float* C, int64_t stride_c, int64_t batch);

extern KernelTable<GemmFn> gemm;

}  // namespace ag::kernels
