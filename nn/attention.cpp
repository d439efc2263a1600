#include "attention.h"

#include "gqa.h"
#include "linear_attention.h"
#include "mha.h"
#include "mla.h"

namespace nn {

void validate(const AttentionConfig& c) {
  const std::string& t = c.type;
  AG_CHECK(t == "mha" || t == "mla" || t == "mla_simple" || t == "gqa" || t == "linear",
           "attention: unknown type '", t, "' (expected mha, mla, mla_simple, gqa or linear)");
  AG_CHECK(c.d_model >= 1, "attention: d_model ", c.d_model, " must be positive");
  AG_CHECK(c.num_heads >= 1, "attention: num_heads ", c.num_heads, " must be positive");
  AG_CHECK(c.d_model % c.num_heads == 0, "attention: num_heads ", c.num_heads,
           " does not divide d_model ", c.d_model);
  AG_CHECK(c.dropout >= 0 && c.dropout < 1, "attention: dropout ", c.dropout,
           " is outside [0, 1)");
  if (t == "gqa") {
    AG_CHECK(c.num_kv_heads >= 1, "attention: num_kv_heads ", c.num_kv_heads,
             " must be at least 1 for gqa");
    AG_CHECK(c.num_heads % c.num_kv_heads == 0, "attention: num_kv_heads ", c.num_kv_heads,
             " does not divide num_heads ", c.num_heads);
  }
  if (t == "mla" || t == "mla_simple") {
    AG_CHECK(c.latent_dim >= 1, "attention: latent_dim ", c.latent_dim, " must be at least 1 for ",
             t);
  }
  AG_CHECK(c.q_latent_dim >= 0, "attention: q_latent_dim ", c.q_latent_dim,
           " must not be negative");
  AG_CHECK(t != "mla_simple" || c.q_latent_dim == 0, "attention: q_latent_dim ", c.q_latent_dim,
           " with mla_simple, which is mla with a full-rank query (use mla for a low-rank one)");
}

int64_t Attention::cache_bytes(int64_t history, int64_t chunks, CacheDtype dtype) const {
  if (dtype == CacheDtype::int8) return int8_cache_bytes(history, chunks);
  return static_cast<int64_t>(sizeof(float)) *
         (cache_floats_per_frame() * history + cache_floats_fixed());
}

CrossMemory Attention::cross_memory(const Tensor& /*memory*/) {
  throw ag::Error("attention: this variant has no cross-attention (mha, gqa, mla and "
                  "mla_simple do)");
}

Tensor Attention::forward_cross(const Tensor& /*x*/, const CrossMemory& /*m*/,
                                const Tensor& /*mask*/, const AttentionStreamWeights* /*shared*/) {
  throw ag::Error("attention: this variant has no cross-attention (mha, gqa, mla and "
                  "mla_simple do)");
}

int64_t Attention::int8_cache_bytes(int64_t /*history*/, int64_t /*chunks*/) const {
  throw ag::Error("attention: this variant keeps no int8 cache (mha, gqa and mla do)");
}

std::shared_ptr<Attention> make_attention(const AttentionConfig& c) {
  validate(c);
  if (c.type == "mha") return std::make_shared<MultiHeadAttention>(c);
  // mla_simple is mla with q_latent_dim 0 (validate() refused any other).
  if (c.type == "mla" || c.type == "mla_simple")
    return std::make_shared<MultiHeadLatentAttention>(c);
  if (c.type == "gqa") return std::make_shared<GroupedQueryAttention>(c);
  return std::make_shared<LinearAttention>(c);  // "linear"; validate() rejected the rest
}

}  // namespace nn
