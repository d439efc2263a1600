#include "transformer_decoder.h"

#include "autograd/ops.h"
#include "masks.h"

namespace nn {
namespace {

// The layer's attention config: the decoder's width, absolute positions.
AttentionConfig attention_config(AttentionConfig a, int64_t d_model) {
  a.d_model = d_model;
  a.relative = false;
  return a;
}

}  // namespace

void validate(const DecoderConfig& c) {
  AG_CHECK(c.vocab_size >= 2, "decoder config: vocab_size ", c.vocab_size,
           " must be at least 2 (a token and sos/eos)");
  AG_CHECK(c.d_model > 0 && c.num_layers > 0 && c.ffn_dim > 0, "decoder config: d_model ",
           c.d_model, ", num_layers ", c.num_layers, " and ffn_dim ", c.ffn_dim,
           " must be positive");
  AG_CHECK(c.dropout >= 0 && c.dropout < 1 && c.positional_dropout >= 0 &&
               c.positional_dropout < 1,
           "decoder config: dropout ", c.dropout, " and positional_dropout ",
           c.positional_dropout, " must be in [0, 1)");
  AG_CHECK(c.src_attention.type != "linear",
           "decoder config: src_attention type 'linear' has no cross-attention (mha, gqa, mla, "
           "mla_simple)");
  validate(attention_config(c.self_attention, c.d_model));
  validate(attention_config(c.src_attention, c.d_model));
}

DecoderLayer::DecoderLayer(const DecoderConfig& c) : dropout(c.dropout) {
  const int64_t d = c.d_model;
  self_attn = register_module("self_attn",
                              make_attention(attention_config(c.self_attention, d)));
  src_attn = register_module("src_attn", make_attention(attention_config(c.src_attention, d)));
  feed_forward = register_module(
      "feed_forward",
      std::make_shared<FeedForward>(d, c.ffn_dim, c.dropout, ag::Activation::relu));
  norm1 = register_module("norm1", std::make_shared<LayerNorm>(d, kEspnetLayerNormEps));
  norm2 = register_module("norm2", std::make_shared<LayerNorm>(d, kEspnetLayerNormEps));
  norm3 = register_module("norm3", std::make_shared<LayerNorm>(d, kEspnetLayerNormEps));
}

Tensor DecoderLayer::forward(const Tensor& x, const Tensor& self_mask, const Tensor& memory,
                             const Tensor& memory_mask) const {
  const bool train = is_training();
  Tensor h = ag::add(x, ag::dropout(self_attn->forward(norm1->forward(x), self_mask, Tensor()),
                                    dropout, train));
  h = ag::add(h, ag::dropout(src_attn->forward_cross(norm2->forward(h), src_attn->cross_memory(memory),
                                                      memory_mask),
                             dropout, train));
  return ag::add(h, ag::dropout(feed_forward->forward(norm3->forward(h)), dropout, train));
}

Tensor DecoderLayer::step(const Tensor& x, AttentionCache& self,
                          const AttentionStreamWeights& self_weights, const CrossMemory& src,
                          const AttentionStreamWeights& src_weights) const {
  Tensor h = ag::add(x, self_attn->forward_chunk(norm1->forward(x), self, self_weights));
  h = ag::add(h, src_attn->forward_cross(norm2->forward(h), src, Tensor(), &src_weights));
  return ag::add(h, feed_forward->forward(norm3->forward(h)));  // [N, 1, d]
}

void DecoderState::select(const Tensor& rows) {
  for (AttentionCache& c : self) c.select(rows);
}

int64_t DecoderState::self_bytes() const {
  int64_t n = 0;
  for (const AttentionCache& c : self) n += c.bytes();
  return n;
}

int64_t DecoderState::src_bytes() const {
  int64_t n = 0;
  for (const CrossMemory& m : src) n += m.bytes();
  return n;
}

TransformerDecoder::TransformerDecoder(const DecoderConfig& c) : config_(c) {
  validate(c);
  const int64_t d = c.d_model;
  embed = register_module("embed", std::make_shared<ModuleList<Embedding>>());
  embed->push_back(std::make_shared<Embedding>(c.vocab_size, d));
  // No parameters (ESPnet's embed.1 has none either); registered for train()/eval().
  pos_enc = register_module("pos_enc",
                            std::make_shared<PositionalEncoding>(d, c.positional_dropout));
  decoders = register_module("decoders", std::make_shared<ModuleList<DecoderLayer>>());
  for (int64_t i = 0; i < c.num_layers; ++i) decoders->push_back(std::make_shared<DecoderLayer>(c));
  after_norm = register_module("after_norm", std::make_shared<LayerNorm>(d, kEspnetLayerNormEps));
  output_layer = register_module("output_layer", std::make_shared<Linear>(d, c.vocab_size));
}

Tensor TransformerDecoder::forward(const Tensor& tokens, const std::vector<int64_t>& lengths,
                                   const Tensor& memory, const Tensor& memory_mask) {
  AG_CHECK(tokens.dim() == 2 && static_cast<int64_t>(lengths.size()) == tokens.size(0),
           "decoder: tokens ", ag::shape_str(tokens.shape()), " are not [B, L] for ",
           lengths.size(), " lengths");
  AG_CHECK(memory.dim() == 3 && (memory.size(0) == tokens.size(0) || memory.size(0) == 1) &&
               memory.size(2) == config_.d_model,
           "decoder: memory ", ag::shape_str(memory.shape()), " is not [B, S, ",
           config_.d_model, "] or [1, S, ", config_.d_model, "] for ", tokens.size(0),
           " token rows");
  Tensor x = pos_enc->forward((*embed)[0].forward(tokens));  // [B, L, d]
  Tensor self_mask = causal_mask(lengths, tokens.size(1), memory.device());
  for (const auto& layer : *decoders) x = layer->forward(x, self_mask, memory, memory_mask);
  return output_layer->forward(after_norm->forward(x));  // [B, L, vocab]
}

DecoderState TransformerDecoder::start(const Tensor& memory) const {
  AG_CHECK(!is_training(), "decoder: incremental decoding is inference only (call eval())");
  AG_CHECK(memory.dim() == 3 && memory.size(0) == 1 && memory.size(2) == config_.d_model,
           "decoder: start takes one utterance's memory [1, S, ", config_.d_model, "], got ",
           ag::shape_str(memory.shape()));
  ag::NoGradGuard no_grad;
  DecoderState state;
  for (const auto& layer : *decoders) {
    state.self.emplace_back();
    state.self_weights.push_back(layer->self_attn->stream_weights());
    state.src_weights.push_back(layer->src_attn->stream_weights());
    state.src.push_back(layer->src_attn->cross_memory(memory));
  }
  return state;
}

Tensor TransformerDecoder::step(const Tensor& tokens, DecoderState& state) const {
  AG_CHECK(!is_training(), "decoder: incremental decoding is inference only (call eval())");
  AG_CHECK(tokens.dim() == 1 && tokens.dtype() == ag::DType::i64 &&
               state.self.size() == decoders->size(),
           "decoder: step takes tokens [N] int64 and a state from start(), got ",
           ag::shape_str(tokens.shape()));
  ag::NoGradGuard no_grad;
  const int64_t N = tokens.size(0);
  Tensor x = (*embed)[0].forward(ag::reshape(tokens, {N, 1}));  // [N, 1, d]
  x = pos_enc->forward(x, state.tokens);
  for (size_t i = 0; i < decoders->size(); ++i)
    x = (*decoders)[i].step(x, state.self[i], state.self_weights[i], state.src[i],
                            state.src_weights[i]);
  ++state.tokens;
  Tensor logits = output_layer->forward(after_norm->forward(x));  // [N, 1, vocab]
  return ag::log_softmax(ag::reshape(logits, {N, config_.vocab_size}), -1);
}

int64_t TransformerDecoder::self_cache_bytes(int64_t tokens) const {
  int64_t bytes = 0;
  for (const auto& layer : *decoders)
    bytes += layer->self_attn->cache_bytes(tokens, tokens, CacheDtype::f32);
  return bytes;
}

int64_t TransformerDecoder::src_cache_bytes(int64_t frames) const {
  int64_t bytes = 0;
  for (const auto& layer : *decoders)
    bytes += layer->src_attn->cache_bytes(frames, 1, CacheDtype::f32);
  return bytes;
}

}  // namespace nn
