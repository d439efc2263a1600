// The Transformer decoder's sizes and attention types (transformer_decoder.h), apart so that
// configs can hold one without the layers.
#pragma once
#include <cstdint>

#include "attention.h"

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

}  // namespace nn
