// The Transformer decoder of hybrid CTC/attention models, as ESPnet's TransformerDecoder
// (normalize_before, no concat_after): token embedding times sqrt(d_model) plus absolute
// sinusoidal positions, then num_layers layers of
//   x = x + dropout(self_attn(norm1(x), causal mask))          (causal self-attention)
//   x = x + dropout(src_attn(norm2(x), memory, memory mask))   (cross-attention)
//   x = x + dropout(feed_forward(norm3(x)))                    (ReLU feed-forward)
// a final LayerNorm and the output projection to the vocabulary. Both attentions take any
// type the encoder does except linear for cross-attention (AttentionConfig), always with
// absolute positions. Parameter names are ESPnet's: embed.0.weight, decoders.N.self_attn.*,
// decoders.N.src_attn.*, decoders.N.feed_forward.w_{1,2}.*, decoders.N.norm{1,2,3}.*,
// after_norm.*, output_layer.*.
#pragma once
#include <memory>
#include <vector>

#include "attention.h"
#include "decoder_config.h"
#include "embedding.h"
#include "feed_forward.h"
#include "linear.h"
#include "normalization.h"
#include "positional_encoding.h"

namespace nn {

// Incremental decoding of one utterance by a batch of N hypotheses (a beam), inference only:
// per layer the self-attention cache (keys and values, or mla's latents, of every token fed
// so far: one entry per token) and the cross-attention memory (the encoder output's keys and
// values or latents, computed once per utterance at start(), batch 1, read by every
// hypothesis at every step).
struct DecoderState {
  std::vector<AttentionCache> self;
  std::vector<CrossMemory> src;
  // Per layer, derived once from the weights: mla's absorbed form, for the self-attention
  // and the cross-attention (whose queries then read the latents themselves).
  std::vector<AttentionStreamWeights> self_weights, src_weights;
  int64_t tokens = 0;                                // tokens fed to each hypothesis so far
  // Keeps hypotheses `rows` [N'] int64 (in that order, repeats allowed).
  void select(const Tensor& rows);
  // Bytes held: the self-attention caches (grow by one entry per token and hypothesis) and
  // the cross-attention memory (fixed per utterance).
  int64_t self_bytes() const;
  int64_t src_bytes() const;
};

class DecoderLayer : public Module {
 public:
  explicit DecoderLayer(const DecoderConfig& c);
  // x [B, L, d]; self_mask [B, L, L] (causal_mask); memory [B, S, d]; memory_mask [B, 1, S]
  // or undefined -> [B, L, d]
  Tensor forward(const Tensor& x, const Tensor& self_mask, const Tensor& memory,
                 const Tensor& memory_mask) const;
  // One token per hypothesis: x [N, 1, d] -> [N, 1, d], appending to `self`.
  Tensor step(const Tensor& x, AttentionCache& self, const AttentionStreamWeights& self_weights,
              const CrossMemory& src, const AttentionStreamWeights& src_weights) const;

  std::shared_ptr<Attention> self_attn, src_attn;
  std::shared_ptr<FeedForward> feed_forward;
  std::shared_ptr<LayerNorm> norm1, norm2, norm3;
  float dropout;
};

class TransformerDecoder : public Module {
 public:
  explicit TransformerDecoder(const DecoderConfig& c);
  // tokens [B, L] int64 (sos then the labels, padded), lengths [B] (real tokens per row,
  // 1..L), memory [B, S, d] the encoder's output (or [1, S, d], one utterance's, shared by
  // the B rows: its keys and values are computed once), memory_mask [B, 1, S] (1 at real
  // frames) or undefined -> logits [B, L, vocab_size]
  Tensor forward(const Tensor& tokens, const std::vector<int64_t>& lengths, const Tensor& memory,
                 const Tensor& memory_mask);
  // Incremental decoding (eval mode): start() from one utterance's encoder output
  // memory [1, S, d]; step() feeds each hypothesis its next token, tokens [N] int64 (N may
  // differ from the previous step's after state.select) -> log-probabilities [N, vocab] of
  // the token after it. Equal to forward() on the whole prefixes (a test checks).
  DecoderState start(const Tensor& memory) const;
  Tensor step(const Tensor& tokens, DecoderState& state) const;
  // Bytes of the caches by formula (fp32, all layers, one hypothesis): the self-attention
  // caches after `tokens` tokens (linear attention: a fixed state), and the cross-attention
  // memory of `frames` encoder frames.
  int64_t self_cache_bytes(int64_t tokens) const;
  int64_t src_cache_bytes(int64_t frames) const;
  const DecoderConfig& config() const { return config_; }

  std::shared_ptr<ModuleList<Embedding>> embed;  // `embed.0` (ESPnet's Sequential)
  std::shared_ptr<PositionalEncoding> pos_enc;
  std::shared_ptr<ModuleList<DecoderLayer>> decoders;
  std::shared_ptr<LayerNorm> after_norm;
  std::shared_ptr<Linear> output_layer;

 private:
  DecoderConfig config_;
};

}  // namespace nn
