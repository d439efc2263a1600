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

// What all streams of an Encoder share, derived from its weights once (not per stream) and
// counted as weights, apart from the caches' bytes: each layer's attention stream weights
// (the projected relative-position table, mla's absorbed weights).
struct EncoderStreamWeights {
  const void* encoder = nullptr;  // the Encoder that derived them (checked by forward_chunk)
  int64_t positions = 0;  // relative: the positions P the tables cover (grown by doubling
                          // as streams need them)
  std::vector<AttentionStreamWeights> layers;
  int64_t bytes() const;
};

// The streaming state of an Encoder (docs/streaming.md): each layer's caches, the encoder
// frames emitted so far, and the weights shared with the model's other streams.
struct EncoderCache {
  int64_t chunk_size = 0;    // encoder frames per chunk
  int64_t left_chunks = -1;  // chunks of history each chunk attends to (all when negative)
  int64_t offset = 0;        // encoder frames emitted so far
  std::vector<BlockCache> layers;
  std::shared_ptr<EncoderStreamWeights> shared;

  // History frames the attention caches hold before the next chunk, and the chunks they came
  // in (each chunk_size frames, the last maybe fewer).
  int64_t history() const;
  int64_t history_chunks() const;
  // Bytes held by the attention caches (the history, as the formulas count it), and by the
  // convolution caches, over all layers.
  int64_t attention_bytes() const;
  int64_t conv_bytes() const;
  // Bytes the attention caches allocated: attention_bytes() plus the frame buffers' spare
  // capacity.
  int64_t attention_capacity_bytes() const;
};

// Input frames [start, start + length) that one streaming chunk reads.
struct FrameWindow {
  int64_t start, length;
};
// The windows that stream `frames` input frames in chunks of chunk_size encoder frames:
// chunk k reads input frames 4kC .. 4kC + 4(C-1) + 6 (fewer at the end), overlapping the next
// by 3, so that Conv2dSubsampling gives exactly the full pass's frames kC .. kC + C - 1.
std::vector<FrameWindow> stream_windows(int64_t frames, int64_t chunk_size);

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

  // Streaming, inference only (eval mode; no gradients are recorded). The weights all streams
  // share: those a live stream (or holder) already has, else derived now from the weights as
  // they are. Holding the pointer keeps them for later streams (asr-eval holds them for a
  // whole evaluation); the weights must not change while it is held.
  std::shared_ptr<EncoderStreamWeights> stream_weights();
  // A new stream's cache for chunks of chunk_size > 0 encoder frames attending to left_chunks
  // chunks before their own (all when negative), with stream_weights(), its attention caches
  // in float32 or int8 (keys per channel, values and latents per token: cache_frames.h);
  // refused for linear attention with left_chunks >= 0 or int8, and for Branchformer's
  // learned_ave merge.
  EncoderCache make_cache(int64_t chunk_size, int64_t left_chunks,
                          CacheDtype dtype = CacheDtype::f32);
  // window [B, W, input_dim]: the input frames of the stream's next chunk (stream_windows;
  // W >= 7, giving at most chunk_size frames) -> [B, T, d], T = output_length(W). With causal
  // convolutions the chunks together equal forward(feats, lengths, chunk_size, left_chunks).
  Tensor forward_chunk(const Tensor& window, EncoderCache& cache);
  // Whole utterances, chunk by chunk: feats [B, T, input_dim] (no padding) -> [B, T', d].
  Tensor forward_streaming(const Tensor& feats, int64_t chunk_size, int64_t left_chunks);

  // Floats a streaming key/value cache holds per frame of history, summed over the layers;
  // and those it holds whatever the history length (linear attention's states).
  int64_t cache_floats_per_frame() const;
  int64_t cache_floats_fixed() const;
  // The attention-cache bytes one stream holds after `history_frames` frames of history
  // (Attention::cache_bytes; int8 needs the chunks they came in).
  int64_t cache_bytes_formula(int64_t history_frames, CacheDtype dtype = CacheDtype::f32,
                              int64_t chunks = 0) const;

  const EncoderConfig& config() const { return config_; }

  std::shared_ptr<Conv2dSubsampling> embed;
  std::shared_ptr<RelPositionalEncoding> rel_pos_enc;  // positional_encoding "relative"
  std::shared_ptr<PositionalEncoding> abs_pos_enc;     // positional_encoding "absolute"
  std::shared_ptr<ModuleList<EncoderBlock>> layers;
  std::shared_ptr<LayerNorm> after_norm;

 private:
  Tensor run_layer(EncoderBlock& block, const Tensor& x, const Tensor& att_mask,
                   const Tensor& pad_mask, const Tensor& pos_emb);
  // Grows w's position tables to positions P-1 .. -(P-1) (relative positions only).
  void cover_positions(EncoderStreamWeights& w, int64_t P);

  EncoderConfig config_;
  std::weak_ptr<EncoderStreamWeights> stream_weights_;  // the live streams' shared weights
};

// The attention config layer `layer` of `c` uses (its d_model and relative follow c, its
// latent_dim c.latent_dims[layer] when that list is given).
AttentionConfig layer_attention_config(const EncoderConfig& c, int64_t layer = 0);
// Throws ag::Error naming the first inconsistent field of c.
void validate(const EncoderConfig& c);

}  // namespace nn
