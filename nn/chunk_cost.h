// The cost model of a streaming chunk (docs/streaming.md): the matrix products an attention
// layer's forward_chunk runs, counted as ag::gemm_count counts them (multiply-adds M*N*K per
// matrix, operand bytes read once per matrix), for one stream (B = 1). Softmax, rel_shift
// and the elementwise ops are left out: they are linear in the scores, not in the weights.
#pragma once
#include <cstdint>

namespace nn {

struct ChunkCost {
  int64_t multiply_adds = 0;
  int64_t bytes_read = 0;

  // Adds `batch` products [M, K] x [K, N].
  void gemm(int64_t batch, int64_t M, int64_t N, int64_t K);
  // Adds a Linear layer in -> out on `rows` frames.
  void linear(int64_t rows, int64_t in, int64_t out) { gemm(1, rows, out, in); }
  ChunkCost& operator+=(const ChunkCost& o);
};

}  // namespace nn
