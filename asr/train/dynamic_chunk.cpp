#include "asr/train/dynamic_chunk.h"

#include <random>

#include "autograd/error.h"
#include "asr/data/batching.h"

namespace asr {

ChunkDraw draw_dynamic_chunk(uint64_t seed, int64_t step, int64_t micro_batch, int64_t frames,
                             bool dynamic_left) {
  AG_CHECK(frames >= 1, "draw_dynamic_chunk: frames ", frames, " must be positive");
  constexpr uint64_t kStream = 0x6368756e6bULL;  // "chunk": apart from other uses of the seed
  std::mt19937_64 rng(mix_seed(mix_seed(seed, kStream), static_cast<uint64_t>(step),
                               static_cast<uint64_t>(micro_batch)));
  // rng() % n: the standard fixes mt19937_64's output, not the distributions'.
  auto uniform = [&rng](int64_t n) { return static_cast<int64_t>(rng() % static_cast<uint64_t>(n)); };
  const int64_t c = 1 + uniform(frames);  // [1, frames]
  ChunkDraw draw;
  if (c > frames / 2) return draw;
  draw.chunk_size = c % 25 + 1;
  if (dynamic_left) draw.left_chunks = uniform((frames - 1) / draw.chunk_size + 1);
  return draw;
}

}  // namespace asr
