// Dynamic-chunk training (WeNet U2): a chunk size drawn per batch, so that one model streams
// at any chunk size (docs/training.md).
#pragma once
#include <cstdint>

namespace asr {

struct ChunkDraw {
  int64_t chunk_size = 0;    // 0: full context
  int64_t left_chunks = -1;  // -1: all history
};

// The draw for micro-batch `micro_batch` of optimizer step `step` of a run seeded `seed`,
// whose longest utterance has `frames` encoder frames (>= 1). From its own RNG, seeded by
// (seed, step, micro_batch), so that a resumed run draws the same. As WeNet: c uniform in
// [1, frames]; c > frames/2 gives full context, otherwise chunk_size = c % 25 + 1 and, when
// dynamic_left, left_chunks uniform in [0, (frames-1) / chunk_size].
ChunkDraw draw_dynamic_chunk(uint64_t seed, int64_t step, int64_t micro_batch, int64_t frames,
                             bool dynamic_left);

}  // namespace asr
