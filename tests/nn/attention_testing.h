// Helpers shared by the attention tests: small configs, inputs, masks, and a naive
// per-element softmax-attention reference in double precision.
#pragma once
#include <cmath>
#include <limits>
#include <vector>

#include "common/gradcheck.h"
#include "nn/attention.h"

namespace attn_testing {

using ag::Shape;
using ag::Tensor;

inline nn::AttentionConfig config(const std::string& type, bool relative, int64_t d = 8,
                                  int64_t heads = 2) {
  nn::AttentionConfig c;
  c.type = type;
  c.d_model = d;
  c.num_heads = heads;
  c.latent_dim = type == "mla" || type == "mla_simple" ? 6 : 0;
  c.num_kv_heads = type == "gqa" ? 1 : 0;
  c.dropout = 0.0f;
  c.relative = relative;
  return c;
}

// Random relative position embeddings [1, 2T-1, d] when relative, else undefined.
inline Tensor pos_emb_for(const nn::AttentionConfig& c, int64_t T) {
  return c.relative ? ag::normal({1, 2 * T - 1, c.d_model}) : Tensor();
}

// uint8 [B, 1, T] padding mask from lengths.
inline Tensor padding_mask(const std::vector<int64_t>& lengths, int64_t T) {
  Tensor m = ag::lengths_to_mask(lengths, T);
  return ag::reshape(m, {static_cast<int64_t>(lengths.size()), 1, T});
}

// uint8 [B, T, T]: query i sees keys in its chunk and the chunks before (WeNet's chunk mask),
// limited to each item's valid frames.
inline Tensor chunk_mask(const std::vector<int64_t>& lengths, int64_t T, int64_t chunk) {
  const int64_t B = static_cast<int64_t>(lengths.size());
  Tensor m = ag::zeros({B, T, T}, ag::DType::u8);
  uint8_t* p = m.data_as<uint8_t>();
  for (int64_t b = 0; b < B; ++b)
    for (int64_t i = 0; i < T; ++i)
      for (int64_t j = 0; j < T; ++j)
        p[(b * T + i) * T + j] = j < lengths[b] && j < (i / chunk + 1) * chunk;
  return m;
}

// uint8 [B, T, T] lower-triangular (causal) mask.
inline Tensor causal_mask(int64_t B, int64_t T) {
  Tensor m = ag::zeros({B, T, T}, ag::DType::u8);
  uint8_t* p = m.data_as<uint8_t>();
  for (int64_t b = 0; b < B; ++b)
    for (int64_t i = 0; i < T; ++i)
      for (int64_t j = 0; j <= i; ++j) p[(b * T + i) * T + j] = 1;
  return m;
}

// Whether query i of item b may attend to key j under mask [B, 1|T, T] (undefined: all).
inline bool allowed(const Tensor& mask, int64_t b, int64_t i, int64_t j) {
  if (!mask.defined()) return true;
  const int64_t rows = mask.size(1), T = mask.size(2);
  return mask.data_as<uint8_t>()[(b * rows + (rows == 1 ? 0 : i)) * T + j] != 0;
}

// Per-head inputs of the reference, all [B, T, H, d_k] flattened (as the projections give them),
// pos [2T-1, H, d_k] and biases u, v [H, d_k] (relative only).
struct Projected {
  int64_t B, T, H, dk;
  std::vector<float> q, k, v, pos, u, v_bias;
};

// Naive softmax attention in double, ESPnet semantics: scores (q+u)k^T + (q+v)p^T shifted,
// / sqrt(d_k), masked keys excluded, fully masked rows zero. -> heads merged [B, T, H*d_k].
inline std::vector<double> reference_attention(const Projected& in, const Tensor& mask,
                                               const std::vector<int64_t>& kv_head_of) {
  const int64_t B = in.B, T = in.T, H = in.H, dk = in.dk;
  const bool rel = !in.pos.empty();
  auto at = [&](const std::vector<float>& t, int64_t b, int64_t i, int64_t h, int64_t heads) {
    return &t[((b * T + i) * heads + h) * dk];
  };
  const int64_t kv_heads = static_cast<int64_t>(in.k.size()) / (B * T * dk);
  std::vector<double> out(B * T * H * dk, 0.0);
  for (int64_t b = 0; b < B; ++b)
    for (int64_t h = 0; h < H; ++h)
      for (int64_t i = 0; i < T; ++i) {
        const float* q = at(in.q, b, i, h, H);
        std::vector<double> s(T, -std::numeric_limits<double>::infinity());
        double mx = -std::numeric_limits<double>::infinity();
        for (int64_t j = 0; j < T; ++j) {
          if (!allowed(mask, b, i, j)) continue;
          const float* k = at(in.k, b, j, kv_head_of[h], kv_heads);
          double ac = 0, bd = 0;
          for (int64_t c = 0; c < dk; ++c) {
            ac += (q[c] + (rel ? in.u[h * dk + c] : 0.0)) * k[c];
            if (rel) bd += (q[c] + in.v_bias[h * dk + c]) * in.pos[((T - 1 - i + j) * H + h) * dk + c];
          }
          s[j] = (ac + bd) / std::sqrt(static_cast<double>(dk));
          mx = std::max(mx, s[j]);
        }
        if (mx == -std::numeric_limits<double>::infinity()) continue;  // fully masked: zeros
        double z = 0;
        for (int64_t j = 0; j < T; ++j) z += std::isinf(s[j]) ? 0 : std::exp(s[j] - mx);
        for (int64_t j = 0; j < T; ++j) {
          if (std::isinf(s[j])) continue;
          const double w = std::exp(s[j] - mx) / z;
          const float* v = at(in.v, b, j, kv_head_of[h], kv_heads);
          for (int64_t c = 0; c < dk; ++c) out[((b * T + i) * H + h) * dk + c] += w * v[c];
        }
      }
  return out;
}

// Largest |a - b| / (1 + |b|).
inline double max_rel_diff(const std::vector<float>& a, const std::vector<double>& b) {
  BOOST_REQUIRE_EQUAL(a.size(), b.size());
  double m = 0;
  for (size_t i = 0; i < a.size(); ++i) m = std::max(m, std::fabs(a[i] - b[i]) / (1 + std::fabs(b[i])));
  return m;
}

inline Tensor find_parameter(const nn::Module& m, const std::string& name) {
  for (auto& [n, t] : m.named_parameters())
    if (n == name) return t;
  BOOST_FAIL("no parameter " << name);
  return Tensor();
}

// Copies `src` into the parameter `name` of `m` (no grad).
inline void set_parameter(const nn::Module& m, const std::string& name, const Tensor& src) {
  Tensor p = find_parameter(m, name);
  BOOST_REQUIRE_MESSAGE(p.shape() == src.shape(), name << ": " << ag::shape_str(p.shape())
                                                         << " vs " << ag::shape_str(src.shape()));
  std::vector<float> v = src.to_vector();
  std::copy(v.begin(), v.end(), p.data());
}

}  // namespace attn_testing
