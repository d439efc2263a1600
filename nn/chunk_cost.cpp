#include "chunk_cost.h"

namespace nn {

void ChunkCost::gemm(int64_t batch, int64_t M, int64_t N, int64_t K) {
  multiply_adds += batch * M * N * K;
  bytes_read += batch * (M * K + K * N) * static_cast<int64_t>(sizeof(float));
}

ChunkCost& ChunkCost::operator+=(const ChunkCost& o) {
  multiply_adds += o.multiply_adds;
  bytes_read += o.bytes_read;
  return *this;
}

}  // namespace nn
