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
#include "embedding.h"
#include "feed_forward.h"
#include "linear.h"
#include "normalization.h"
#include "positional_encoding.h"

namespace nn {

struct DecoderConfig {
  int64_t vocab_size = 0;  // the output vocabulary, sos/eos included
  int64_t d_model = 256;   // must equal the encoder's (the memory's width)
  int64_t num_layers = 6;  // ESPnet's LibriSpeech-100 recipe: 6 layers, 4 heads, 2048 units
  int64_t ffn_dim = 2048;
  float dropout = 0.1f;             // residual, feed-forward (ESPnet's dropout_rate)
  float positional_dropout = 0.1f;  // ESPnet's positional_dropout_rate
  // Their dropout (on the attention weights) defaults to 0.1 as ESPnet's LibriSpeech-100
  // recipe sets it (ESPnet's class default is 0); d_model follows d_model, relative is
  // forced off; linear is refused for src_attention.
  AttentionConfig self_attention;
  AttentionConfig src_attention;
};

// Throws ag::Error naming the offending field.
void validate(const DecoderConfig& c);

class DecoderLayer : public Module {
 public:
  explicit DecoderLayer(const DecoderConfig& c);
  // x [B, L, d]; self_mask [B, L, L] (causal_mask); memory [B, S, d]; memory_mask [B, 1, S]
  // or undefined -> [B, L, d]
  Tensor forward(const Tensor& x, const Tensor& self_mask, const Tensor& memory,
                 const Tensor& memory_mask) const;

  std::shared_ptr<Attention> self_attn, src_attn;
  std::shared_ptr<FeedForward> feed_forward;
  std::shared_ptr<LayerNorm> norm1, norm2, norm3;
  float dropout;
};

class TransformerDecoder : public Module {
 public:
  explicit TransformerDecoder(const DecoderConfig& c);
  // tokens [B, L] int64 (sos then the labels, padded), lengths [B] (real tokens per row,
  // 1..L), memory [B, S, d] the encoder's output, memory_mask [B, 1, S] (1 at real frames)
  // or undefined -> logits [B, L, vocab_size]
  Tensor forward(const Tensor& tokens, const std::vector<int64_t>& lengths, const Tensor& memory,
                 const Tensor& memory_mask);
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
