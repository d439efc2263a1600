// The attention variants through the common interface, each with absolute and relative
// positions: shapes, parameter counts and names, a naive reference, gradients, padding
// invariance, fully masked rows, dropout, cache sizes, input and config errors.
#include <boost/test/unit_test.hpp>

#include "attention_testing.h"
#include "autograd/ops.h"
#include "nn/attention.h"

using namespace attn_testing;
using nn::AttentionConfig;
using testing::check_error;
using testing::check_gradients;

namespace {

const std::vector<std::string> kTypes = {"mha", "mla", "mla_simple", "gqa", "linear"};

// Every variant, absolute and relative; also MLA with a low-rank query and GQA with 2 of 4
// key/value heads.
std::vector<AttentionConfig> all_configs(int64_t d = 8, int64_t heads = 2) {
  std::vector<AttentionConfig> out;
  for (bool rel : {false, true}) {
    for (const auto& t : kTypes) out.push_back(config(t, rel, d, heads));
    out.push_back(config("mla", rel, d, heads));
    out.back().q_latent_dim = 3;
    out.push_back(config("gqa", rel, d, 4));
    out.back().num_kv_heads = 2;
  }
  return out;
}

std::string name_of(const AttentionConfig& c) {
  return c.type + (c.relative ? " (relative)" : " (absolute)") + " H " +
         std::to_string(c.num_heads) + " kv " + std::to_string(c.num_kv_heads) + " q_latent " +
         std::to_string(c.q_latent_dim);
}

int64_t expected_parameters(const AttentionConfig& c) {
  const int64_t d = c.d_model, L = c.latent_dim, dk = d / c.num_heads;
  const int64_t full = d * d + d;  // a d -> d Linear with bias
  int64_t n = 0;
  if (c.type == "mha" || c.type == "linear") n = 4 * full;
  if (c.type == "gqa") {
    const int64_t kv = c.num_kv_heads * dk;
    n = 2 * full + 2 * (d * kv + kv);
  }
  if (c.type == "mla" || c.type == "mla_simple") {
    const int64_t ql = c.type == "mla" ? c.q_latent_dim : 0;
    const int64_t query = ql > 0 ? d * ql + ql * d + d : full;
    n = query + d * L + 2 * (L * d + d) + full;
  }
  if (c.relative && c.type != "linear") n += d * d + 2 * d;
  return n;
}

Tensor linear_of(const nn::Module& m, const std::string& name, const Tensor& x) {
  Tensor b;
  for (auto& [n, t] : m.named_parameters())
    if (n == name + ".bias") b = t;
  return ag::linear(x, find_parameter(m, name + ".weight"), b);
}

// Queries, keys and values of a softmax variant recomputed from its named parameters.
Projected project(const nn::Attention& m, const AttentionConfig& c, const Tensor& x,
                  const Tensor& pos_emb) {
  ag::NoGradGuard no_grad;
  const int64_t B = x.size(0), T = x.size(1), H = c.num_heads;
  Projected p{B, T, H, c.d_model / H, {}, {}, {}, {}, {}, {}};
  const bool low_rank_q = c.type == "mla" && c.q_latent_dim > 0;
  p.q = (low_rank_q ? linear_of(m, "linear_uq", linear_of(m, "linear_dq", x))
                    : linear_of(m, "linear_q", x))
            .to_vector();
  if (c.type == "mla" || c.type == "mla_simple") {
    Tensor latent = linear_of(m, "linear_dkv", x);  // [B, T, L]
    p.k = linear_of(m, "linear_uk", latent).to_vector();
    p.v = linear_of(m, "linear_uv", latent).to_vector();
  } else {
    p.k = linear_of(m, "linear_k", x).to_vector();
    p.v = linear_of(m, "linear_v", x).to_vector();
  }
  if (c.relative) {
    p.pos = linear_of(m, "linear_pos", pos_emb).to_vector();
    p.u = find_parameter(m, "pos_bias_u").to_vector();
    p.v_bias = find_parameter(m, "pos_bias_v").to_vector();
  }
  return p;
}

// The variant's output recomputed with the naive reference: heads merged, then linear_out.
std::vector<double> reference_output(const nn::Attention& m, const AttentionConfig& c,
                                     const Tensor& x, const Tensor& mask, const Tensor& pos_emb) {
  Projected p = project(m, c, x, pos_emb);
  const int64_t H = c.num_heads, groups = c.type == "gqa" ? c.num_kv_heads : H;
  std::vector<int64_t> kv_head_of(H);
  for (int64_t h = 0; h < H; ++h) kv_head_of[h] = h / (H / groups);
  std::vector<double> heads = reference_attention(p, mask, kv_head_of);  // [B, T, d]
  Tensor w = find_parameter(m, "linear_out.weight"), b = find_parameter(m, "linear_out.bias");
  const int64_t d = c.d_model, rows = x.size(0) * x.size(1);
  std::vector<float> wv = w.to_vector(), bv = b.to_vector();
  std::vector<double> out(rows * d);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t o = 0; o < d; ++o) {
      double s = bv[o];
      for (int64_t i = 0; i < d; ++i) s += wv[o * d + i] * heads[r * d + i];
      out[r * d + o] = s;
    }
  return out;
}

}  // namespace

BOOST_AUTO_TEST_CASE(output_shapes_and_parameter_counts) {
  ag::manual_seed(1);
  for (const auto& c : all_configs()) {
    BOOST_TEST_CONTEXT(name_of(c)) {
      auto m = nn::make_attention(c);
      BOOST_CHECK_EQUAL(m->num_parameters(), expected_parameters(c));
      for (int64_t T : {1, 5, 7}) {
        Tensor x = ag::normal({2, T, c.d_model});
        Tensor y = m->forward(x, padding_mask({T, T > 1 ? T - 1 : 1}, T), pos_emb_for(c, T));
        BOOST_CHECK(y.shape() == (Shape{2, T, c.d_model}));
        BOOST_CHECK(m->forward(x, Tensor(), pos_emb_for(c, T)).shape() == y.shape());
      }
    }
  }
  // Larger, more heads.
  for (const auto& c : all_configs(16, 4)) {
    BOOST_TEST_CONTEXT(name_of(c) << " d 16") {
      auto m = nn::make_attention(c);
      BOOST_CHECK_EQUAL(m->num_parameters(), expected_parameters(c));
    }
  }
}

BOOST_AUTO_TEST_CASE(parameter_names_follow_espnet) {
  auto names = [](const nn::Module& m) {
    std::vector<std::string> out;
    for (auto& [n, t] : m.named_parameters()) out.push_back(n);
    return out;
  };
  std::vector<std::string> mha = {"linear_q.weight", "linear_q.bias", "linear_k.weight",
                                  "linear_k.bias",   "linear_v.weight", "linear_v.bias",
                                  "linear_out.weight", "linear_out.bias"};
  BOOST_TEST(names(*nn::make_attention(config("mha", false))) == mha, boost::test_tools::per_element());
  std::vector<std::string> rel = {"pos_bias_u", "pos_bias_v"};
  rel.insert(rel.end(), mha.begin(), mha.end());
  rel.push_back("linear_pos.weight");
  BOOST_TEST(names(*nn::make_attention(config("mha", true))) == rel, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(softmax_variants_match_the_naive_reference) {
  ag::manual_seed(2);
  const int64_t T = 7;
  const std::vector<int64_t> lengths = {7, 4};
  for (const auto& c : all_configs()) {
    if (c.type == "linear") continue;
    BOOST_TEST_CONTEXT(name_of(c)) {
      auto m = nn::make_attention(c);
      Tensor x = ag::normal({2, T, c.d_model}), pos = pos_emb_for(c, T);
      for (const Tensor& mask : {Tensor(), padding_mask(lengths, T), chunk_mask(lengths, T, 3)}) {
        Tensor y = m->forward(x, mask, pos);
        BOOST_CHECK_SMALL(max_rel_diff(y.to_vector(), reference_output(*m, c, x, mask, pos)), 1e-5);
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(gradients_of_inputs_and_parameters) {
  ag::manual_seed(3);
  const int64_t T = 5;
  Tensor mask = padding_mask({5, 3}, T);
  for (const auto& c : all_configs()) {
    BOOST_TEST_CONTEXT(name_of(c)) {
      auto m = nn::make_attention(c);
      // pos_emb is an input where it is used (linear attention ignores it).
      const bool uses_pos = c.relative && c.type != "linear";
      std::vector<Tensor> inputs(uses_pos ? 2 : 1);
      inputs[0] = ag::normal({2, T, c.d_model});
      if (uses_pos) inputs[1] = pos_emb_for(c, T);
      Tensor unused_pos = uses_pos ? Tensor() : pos_emb_for(c, T);
      check_gradients(
          [&](auto& in) { return m->forward(in[0], mask, uses_pos ? in[1] : unused_pos); },
          inputs);
      // A few parameters: the first, the output projection, and the position ones.
      std::vector<std::string> names = {m->named_parameters().front().first, "linear_out.weight"};
      if (c.relative && c.type != "linear")
        names = {"pos_bias_u", "pos_bias_v", "linear_pos.weight", "linear_out.weight"};
      std::vector<Tensor> params;
      for (const auto& n : names) params.push_back(find_parameter(*m, n));
      Tensor x = ag::normal({2, T, c.d_model}), pos = pos_emb_for(c, T);
      m->zero_grad();  // drop what the first check accumulated
      check_gradients([&](auto&) { return m->forward(x, mask, pos); }, params);
    }
  }
}

BOOST_AUTO_TEST_CASE(padded_frames_never_change_valid_outputs) {
  ag::manual_seed(4);
  const int64_t T = 6;
  const std::vector<int64_t> lengths = {6, 3};
  for (const auto& c : all_configs()) {
    BOOST_TEST_CONTEXT(name_of(c)) {
      auto m = nn::make_attention(c);
      Tensor x = ag::normal({2, T, c.d_model}), pos = pos_emb_for(c, T);
      for (const Tensor& mask : {padding_mask(lengths, T), chunk_mask(lengths, T, 2)}) {
        Tensor y1 = m->forward(x, mask, pos);
        Tensor x2 = ag::from_vector(x.to_vector(), x.shape());
        for (int64_t t = 3; t < T; ++t)
          for (int64_t i = 0; i < c.d_model; ++i) x2.data()[(T + t) * c.d_model + i] = 100.0f + t * i;
        Tensor y2 = m->forward(x2, mask, pos);
        for (int64_t b = 0; b < 2; ++b)
          for (int64_t t = 0; t < lengths[b]; ++t)
            for (int64_t i = 0; i < c.d_model; ++i)
              BOOST_CHECK_EQUAL(y1.at({b, t, i}), y2.at({b, t, i}));
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(fully_masked_rows_give_the_output_bias) {
  ag::manual_seed(5);
  const int64_t T = 4;
  for (const auto& c : all_configs()) {
    BOOST_TEST_CONTEXT(name_of(c)) {
      auto m = nn::make_attention(c);
      Tensor mask = ag::ones({2, T, T});
      Tensor mask8 = chunk_mask({4, 4}, T, 4);
      for (int64_t j = 0; j < T; ++j) mask8.data_as<uint8_t>()[(T + 2) * T + j] = 0;  // b 1, row 2
      Tensor y = m->forward(ag::normal({2, T, c.d_model}), mask8, pos_emb_for(c, T));
      Tensor bias = find_parameter(*m, "linear_out.bias");
      for (int64_t i = 0; i < c.d_model; ++i) BOOST_CHECK_EQUAL(y.at({1, 2, i}), bias.at({i}));
      for (float v : y.to_vector()) BOOST_CHECK(std::isfinite(v));
    }
  }
}

BOOST_AUTO_TEST_CASE(dropout_only_in_training) {
  ag::manual_seed(6);
  const int64_t T = 6;
  for (auto c : all_configs()) {
    if (c.type == "linear") continue;  // no attention weights to drop
    c.dropout = 0.5f;
    BOOST_TEST_CONTEXT(name_of(c)) {
      auto m = nn::make_attention(c);
      Tensor x = ag::normal({2, T, c.d_model}), pos = pos_emb_for(c, T);
      Tensor a = m->forward(x, Tensor(), pos), b = m->forward(x, Tensor(), pos);
      BOOST_CHECK_GT(testing::max_abs_diff(a, b), 1e-3f);
      m->eval();
      Tensor e1 = m->forward(x, Tensor(), pos), e2 = m->forward(x, Tensor(), pos);
      BOOST_CHECK_EQUAL(testing::max_abs_diff(e1, e2), 0.0f);
    }
  }
}

BOOST_AUTO_TEST_CASE(cache_floats_by_formula) {
  // d_model 16, 4 heads (d_k 4), latent 6, 2 key/value heads.
  auto cache = [](const std::string& type) {
    AttentionConfig c = config(type, true, 16, 4);
    if (type == "gqa") c.num_kv_heads = 2;
    auto m = nn::make_attention(c);
    return std::make_pair(m->cache_floats_per_frame(), m->cache_floats_fixed());
  };
  BOOST_CHECK(cache("mha") == std::make_pair(int64_t{32}, int64_t{0}));              // 2 d
  BOOST_CHECK(cache("gqa") == std::make_pair(int64_t{16}, int64_t{0}));              // 2 d G/H
  BOOST_CHECK(cache("mla") == std::make_pair(int64_t{6}, int64_t{0}));               // latent
  BOOST_CHECK(cache("mla_simple") == std::make_pair(int64_t{6}, int64_t{0}));        // latent
  BOOST_CHECK(cache("linear") == std::make_pair(int64_t{0}, int64_t{4 * (16 + 4)}));  // H(d_k^2+d_k)
}

BOOST_AUTO_TEST_CASE(bad_inputs_are_named) {
  for (const auto& c : all_configs()) {
    BOOST_TEST_CONTEXT(name_of(c)) {
      auto m = nn::make_attention(c);
      Tensor x = ag::zeros({2, 5, 8}), pos = pos_emb_for(c, 5);
      check_error([&] { m->forward(ag::zeros({2, 5, 6}), Tensor(), pos); },
                  "input [2,5,6] is not [B, T, 8]");
      check_error([&] { m->forward(x, ag::ones({2, 1, 4}), pos); }, "mask [2,1,4]");
      check_error([&] { m->forward(x, ag::ones({2, 1, 5}), pos); }, "is not uint8");
      if (c.relative) {
        check_error([&] { m->forward(x, Tensor(), Tensor()); }, "need pos_emb [1, 9, 8]");
        check_error([&] { m->forward(x, Tensor(), ag::zeros({1, 7, 8})); }, "pos_emb [1,7,8]");
      } else {
        check_error([&] { m->forward(x, Tensor(), ag::zeros({1, 9, 8})); }, "take no pos_emb");
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(validate_names_the_field) {
  auto fails = [](AttentionConfig c, const std::string& msg) {
    check_error([&] { nn::validate(c); }, msg);
    check_error([&] { nn::make_attention(c); }, msg);
  };
  AttentionConfig c = config("mha", true, 8, 2);
  BOOST_CHECK_NO_THROW(nn::validate(c));
  c.type = "flash";
  fails(c, "attention: unknown type 'flash'");
  c = config("mha", true, 8, 3);
  fails(c, "attention: num_heads 3 does not divide d_model 8");
  c.num_heads = 0;
  fails(c, "attention: num_heads 0 must be positive");
  c = config("mha", true);
  c.d_model = 0;
  fails(c, "attention: d_model 0 must be positive");
  c = config("mha", true);
  c.dropout = 1.0f;
  fails(c, "attention: dropout 1 is outside [0, 1)");
  c = config("gqa", false, 8, 4);
  c.num_kv_heads = 3;
  fails(c, "attention: num_kv_heads 3 does not divide num_heads 4");
  c.num_kv_heads = 0;
  fails(c, "attention: num_kv_heads 0 must be at least 1 for gqa");
  c = config("mla", false);
  c.latent_dim = 0;
  fails(c, "attention: latent_dim 0 must be at least 1 for mla");
  c = config("mla_simple", false);
  c.latent_dim = -2;
  fails(c, "attention: latent_dim -2 must be at least 1 for mla_simple");
  c = config("mla_simple", false);
  c.q_latent_dim = 2;
  fails(c, "attention: q_latent_dim 2 with mla_simple, which is mla with a full-rank query");
  c = config("mla", false);
  c.q_latent_dim = -1;
  fails(c, "attention: q_latent_dim -1 must not be negative");
}
