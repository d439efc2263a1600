#include "encoder.h"

#include "autograd/ops.h"
#include "branchformer_block.h"
#include "checkpoint.h"
#include "conformer_block.h"
#include "masks.h"

namespace nn {

AttentionConfig layer_attention_config(const EncoderConfig& c, int64_t layer) {
  AttentionConfig a = c.attention;
  a.d_model = c.d_model;
  a.relative = c.positional_encoding == "relative";
  if (!c.latent_dims.empty()) a.latent_dim = c.latent_dims.at(static_cast<size_t>(layer));
  return a;
}

void validate(const EncoderConfig& c) {
  AG_CHECK(c.type == "conformer" || c.type == "branchformer", "encoder config: type '", c.type,
           "' is not conformer or branchformer");
  AG_CHECK(c.positional_encoding == "relative" || c.positional_encoding == "absolute",
           "encoder config: positional_encoding '", c.positional_encoding,
           "' is not relative or absolute");
  AG_CHECK(c.input_dim >= Conv2dSubsampling::kMinFrames, "encoder config: input_dim ",
           c.input_dim, " is below ", Conv2dSubsampling::kMinFrames, " (4x subsampling)");
  AG_CHECK(c.d_model > 0, "encoder config: d_model ", c.d_model, " must be positive");
  AG_CHECK(c.num_layers > 0, "encoder config: num_layers ", c.num_layers, " must be positive");
  AG_CHECK(c.ffn_dim > 0, "encoder config: ffn_dim ", c.ffn_dim, " must be positive");
  AG_CHECK(c.conv_kernel > 0 && (c.causal || c.conv_kernel % 2 == 1), "encoder config: conv_kernel ",
           c.conv_kernel, " must be positive, and odd unless causal");
  AG_CHECK(c.cgmlp_dim > 0 && c.cgmlp_dim % 2 == 0, "encoder config: cgmlp_dim ", c.cgmlp_dim,
           " must be positive and even");
  AG_CHECK(c.conv_norm == "batch_norm" || c.conv_norm == "layer_norm", "encoder config: conv_norm '",
           c.conv_norm, "' is not batch_norm or layer_norm");
  AG_CHECK(c.merge == "concat" || c.merge == "learned_ave", "encoder config: merge '", c.merge,
           "' is not concat or learned_ave");
  AG_CHECK(c.dropout >= 0 && c.dropout < 1, "encoder config: dropout ", c.dropout, " outside [0, 1)");
  AG_CHECK(c.positional_dropout >= 0 && c.positional_dropout < 1,
           "encoder config: positional_dropout ", c.positional_dropout, " outside [0, 1)");
  AG_CHECK(c.latent_dims.empty() || static_cast<int64_t>(c.latent_dims.size()) == c.num_layers,
           "encoder config: latent_dims has ", c.latent_dims.size(), " entries for ", c.num_layers,
           " layers");
  for (int64_t i = 0; i < c.num_layers; ++i) validate(layer_attention_config(c, i));
}

Encoder::Encoder(const EncoderConfig& config) : config_(config) {
  validate(config);
  const int64_t d = config.d_model;
  embed = register_module("embed", std::make_shared<Conv2dSubsampling>(config.input_dim, d));
  if (config.positional_encoding == "relative")
    rel_pos_enc = register_module("pos_enc", std::make_shared<RelPositionalEncoding>(d, config.positional_dropout));
  else
    abs_pos_enc = register_module("pos_enc", std::make_shared<PositionalEncoding>(d, config.positional_dropout));
  layers = register_module("layers", std::make_shared<ModuleList<EncoderBlock>>());
  for (int64_t i = 0; i < config.num_layers; ++i) {
    const AttentionConfig attention = layer_attention_config(config, i);
    if (config.type == "conformer")
      layers->push_back(std::make_shared<ConformerBlock>(config, make_attention(attention)));
    else
      layers->push_back(std::make_shared<BranchformerBlock>(config, make_attention(attention)));
  }
  after_norm = register_module("after_norm", espnet_layer_norm(d));
}

EncoderOutput Encoder::forward(const Tensor& feats, const std::vector<int64_t>& lengths,
                               int64_t chunk_size, int64_t left_chunks) {
  AG_CHECK(feats.dim() == 3 && feats.size(2) == config_.input_dim, "Encoder: features ",
           ag::shape_str(feats.shape()), " must be [B, T, ", config_.input_dim, "]");
  AG_CHECK(static_cast<int64_t>(lengths.size()) == feats.size(0), "Encoder: ", lengths.size(),
           " lengths for a batch of ", feats.size(0));
  AG_CHECK(chunk_size >= 0, "Encoder: chunk_size ", chunk_size, " must be 0 (full context) or positive");
  AG_CHECK(chunk_size == 0 || config_.type != "branchformer" || config_.merge != "learned_ave",
           "Encoder: chunk_size ", chunk_size, " with Branchformer merge learned_ave, whose merge ",
           "weights pool over whole utterances (use merge concat to stream)");
  EncoderOutput result;
  for (size_t b = 0; b < lengths.size(); ++b) {
    AG_CHECK(lengths[b] >= Conv2dSubsampling::kMinFrames && lengths[b] <= feats.size(1),
             "Encoder: utterance ", b, " has ", lengths[b], " frames; it needs at least ",
             Conv2dSubsampling::kMinFrames, " (4x subsampling) and at most the batch's ",
             feats.size(1));
    result.lengths.push_back(Conv2dSubsampling::output_length(lengths[b]));
  }
  Tensor x = embed->forward(feats);  // [B, T', d]
  Tensor pos_emb;                    // [1, 2T'-1, d] or undefined
  if (rel_pos_enc)
    std::tie(x, pos_emb) = rel_pos_enc->forward(x);
  else
    x = abs_pos_enc->forward(x);
  const int64_t T = x.size(1);
  Tensor pad_mask = padding_mask(result.lengths, T, x.device());  // [B, T', 1]
  Tensor att_mask = attention_mask(result.lengths, T, chunk_size, left_chunks, x.device());
  for (const auto& block : *layers) x = run_layer(*block, x, att_mask, pad_mask, pos_emb);
  result.out = after_norm->forward(x);
  return result;
}

Tensor Encoder::run_layer(EncoderBlock& block, const Tensor& x, const Tensor& att_mask,
                          const Tensor& pad_mask, const Tensor& pos_emb) {
  if (!config_.activation_checkpointing || !is_training() || !ag::grad_enabled())
    return block.forward(x, att_mask, pad_mask, pos_emb);
  std::vector<Tensor> running;  // BatchNorm statistics, updated once per step
  for (auto& [name, t] : block.named_buffers()) running.push_back(t);
  auto segment = [&block, att_mask, pad_mask, pos_emb](const std::vector<Tensor>& in) {
    return block.forward(in[0], att_mask, pad_mask, pos_emb);
  };
  return checkpoint(segment, {x}, running, block.parameters());
}

int64_t Encoder::cache_floats_per_frame() const {
  int64_t n = 0;
  for (const auto& block : *layers) n += block->attention().cache_floats_per_frame();
  return n;
}

int64_t Encoder::cache_floats_fixed() const {
  int64_t n = 0;
  for (const auto& block : *layers) n += block->attention().cache_floats_fixed();
  return n;
}

int64_t Encoder::cache_bytes_formula(int64_t history_frames, CacheDtype dtype,
                                     int64_t chunks) const {
  int64_t n = 0;
  for (const auto& block : *layers)
    n += block->attention().cache_bytes(history_frames, chunks, dtype);
  return n;
}

}  // namespace nn
