// The interface the encoder's layers share (Conformer and Branchformer blocks).
#pragma once
#include "attention.h"

namespace nn {

class EncoderBlock : public Module {
 public:
  // x [B, T, d];
  // att_mask: the attention mask ([B, 1, T] or [B, T, T], 1 = may attend; undefined: all);
  // pad_mask [B, T, 1] uint8, 1 at padded frames, which convolutions zero first so they
  //   never reach real frames (undefined: no padding);
  // pos_emb [1, 2T-1, d] for relative attention, else undefined
  // -> [B, T, d]
  virtual Tensor forward(const Tensor& x, const Tensor& att_mask, const Tensor& pad_mask,
                         const Tensor& pos_emb) = 0;
  // Streaming: x [B, T, d] the chunk's frames; cache the block's attention and convolution
  // caches; shared the attention's stream weights (Attention::forward_chunk) -> [B, T, d]
  virtual Tensor forward_chunk(const Tensor& x, BlockCache& cache,
                               const AttentionStreamWeights& shared) = 0;
  virtual const Attention& attention() const = 0;
};

}  // namespace nn
