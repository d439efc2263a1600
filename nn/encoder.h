// The CTC encoder (ESPnet ConformerEncoder / BranchformerEncoder with input_layer conv2d):
//   embed (Conv2dSubsampling, 4x) -> positional encoding (pos_enc; no parameters)
//   -> layers (N Conformer or Branchformer blocks) -> after_norm.
//
// after_norm: each pre-norm block already ends in norm_final, so a last LayerNorm adds
// little; ESPnet keeps one all the same (ConformerEncoder whenever normalize_before,
// BranchformerEncoder always), and so does this encoder, so that its parameters map
// one-to-one onto ESPnet's: embed.* = embed.*, layers.N.* = encoders.N.*,
// after_norm.* = after_norm.*.
#pragma once
#include <memory>
#include <vector>

#include "encoder_block.h"
#include "encoder_config.h"
#include "normalization.h"
#include "positional_encoding.h"
#include "subsampling.h"

namespace nn {

struct EncoderOutput {
  Tensor out;                    // [B, T', d]
  std::vector<int64_t> lengths;  // real frames of each utterance in out
};

class Encoder : public Module {
 public:
  // Throws ag::Error naming the offending field of a bad config.
  explicit Encoder(const EncoderConfig& config);

  // feats [B, T, input_dim] with lengths[b] real frames each (at least
  // Conv2dSubsampling::kMinFrames; shorter utterances are refused with a message naming
  // them). chunk_size 0: full context; chunk_size > 0: each frame attends to its own
  // chunk of chunk_size (subsampled) frames and left_chunks chunks before it (all when
  // negative), as WeNet's dynamic-chunk training and streaming. Chunks are refused for
  // Branchformer's learned_ave merge, which pools over whole utterances.
  EncoderOutput forward(const Tensor& feats, const std::vector<int64_t>& lengths,
                        int64_t chunk_size = 0, int64_t left_chunks = -1);

  // Floats a streaming key/value cache holds per frame of history, summed over the layers;
  // and those it holds whatever the history length (linear attention's states).
  int64_t cache_floats_per_frame() const;
  int64_t cache_floats_fixed() const;

  const EncoderConfig& config() const { return config_; }

  std::shared_ptr<Conv2dSubsampling> embed;
  std::shared_ptr<RelPositionalEncoding> rel_pos_enc;  // positional_encoding "relative"
  std::shared_ptr<PositionalEncoding> abs_pos_enc;     // positional_encoding "absolute"
  std::shared_ptr<ModuleList<EncoderBlock>> layers;
  std::shared_ptr<LayerNorm> after_norm;

 private:
  Tensor run_layer(EncoderBlock& block, const Tensor& x, const Tensor& att_mask,
                   const Tensor& pad_mask, const Tensor& pos_emb);

  EncoderConfig config_;
};

// The attention config layer `layer` of `c` uses (its d_model and relative follow c, its
// latent_dim c.latent_dims[layer] when that list is given).
AttentionConfig layer_attention_config(const EncoderConfig& c, int64_t layer = 0);
// Throws ag::Error naming the first inconsistent field of c.
void validate(const EncoderConfig& c);

}  // namespace nn
