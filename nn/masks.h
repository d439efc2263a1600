// Masks for an encoder pass over a padded batch, optionally in chunks (streaming and
// dynamic-chunk training, as WeNet). All uint8; each names what 1 means.
#pragma once
#include <vector>

#include "autograd/tensor.h"

namespace nn {

using ag::Tensor;

// WeNet's subsequent_chunk_mask: [T, T], 1 where query frame i may attend to key frame j,
// i.e. j lies in i's chunk (chunks of chunk_size frames from frame 0) or in one of the
// left_chunks chunks before it (all of them when left_chunks < 0). chunk_size > 0.
Tensor chunk_mask(int64_t T, int64_t chunk_size, int64_t left_chunks);

// [B, T, 1], 1 at padded frames (t >= lengths[b]), the shape that zeroes them in a
// [B, T, C] tensor; undefined when no frame is padded.
Tensor padding_mask(const std::vector<int64_t>& lengths, int64_t T,
                    ag::Device device = ag::Device::cpu);

// The self-attention mask (1 = query may attend to key), or undefined when it would allow
// everything:
//   chunk_size == 0: [B, 1, T], 1 at real keys (full context);
//   chunk_size > 0:  [B, T, T], chunk_mask & real key, as WeNet's padding & chunk mask,
//     except that a padded query keeps its chunk's keys, padded or not. Its output is
//     never used, and so no row is empty: an all-masked softmax row would turn to NaN
//     and reach real frames through 0 * NaN in the next layer's attention.
Tensor attention_mask(const std::vector<int64_t>& lengths, int64_t T, int64_t chunk_size,
                      int64_t left_chunks, ag::Device device = ag::Device::cpu);

// A Transformer decoder's self-attention mask [B, L, L] (1 = may attend): token i sees
// tokens j <= i of its own sequence, j < lengths[b] (ESPnet's tgt_mask: padding & subsequent
// mask; a padded query still sees the real tokens, so no row is empty).
Tensor causal_mask(const std::vector<int64_t>& lengths, int64_t L,
                   ag::Device device = ag::Device::cpu);

}  // namespace nn
