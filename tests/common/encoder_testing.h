// Encoder configs shared by the encoder, streaming and evaluation tests and the streaming
// benchmark: the tiny encoder of the tests (and of scripts/nn_reference.py), the attention
// variants they sweep, and a variant applied to any config.
#pragma once
#include <string>
#include <vector>

#include "nn/encoder_config.h"

namespace testing {

// An attention type with its size choices; latent 0 / kv_heads 0 keep the config's own.
struct AttentionVariant {
  std::string name;
  std::string type;
  int64_t latent = 0;
  int64_t kv_heads = 0;
};

// Sets c's attention to the variant (latent_dim only for the MLA types).
inline void set_attention(nn::EncoderConfig& c, const AttentionVariant& v) {
  c.attention.type = v.type;
  c.attention.num_kv_heads = v.kv_heads;
  c.attention.latent_dim = v.type.rfind("mla", 0) == 0 ? v.latent : 0;
}

// The tests' encoder: `type` (conformer | branchformer), 9 input bins, d_model 8, 2 layers of
// 2 heads, feed-forward 12, kernel 3, cgMLP 10, no dropout; positions relative or absolute.
inline nn::EncoderConfig tiny_encoder_config(const std::string& type = "conformer",
                                             bool relative = true) {
  nn::EncoderConfig c;
  c.type = type;
  c.input_dim = 9;
  c.d_model = 8;
  c.num_layers = 2;
  c.ffn_dim = 12;
  c.conv_kernel = 3;
  c.cgmlp_dim = 10;
  c.dropout = c.positional_dropout = c.attention.dropout = 0.0f;
  c.positional_encoding = relative ? "relative" : "absolute";
  c.attention.num_heads = 2;
  return c;
}

// Every attention type the tiny encoder streams with (MLA latent 5, GQA with 1 and 2 KV heads).
inline const std::vector<AttentionVariant>& tiny_attention_variants() {
  static const std::vector<AttentionVariant> v = {
      {"mha", "mha"},           {"mla", "mla", 5},          {"mla_simple", "mla_simple", 5},
      {"gqa kv 1", "gqa", 0, 1}, {"gqa kv 2", "gqa", 0, 2}, {"linear", "linear"}};
  return v;
}

}  // namespace testing
