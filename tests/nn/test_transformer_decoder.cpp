// The Transformer decoder and cross-attention: ESPnet's parameter names, causality (a token
// never sees later ones), padding (padded tokens and padded encoder frames change nothing
// real), cross-attention of every type against a naive reference, finite-difference
// gradients, incremental decoding against full recomputation (with a beam's reordering), the
// caches' bytes against their formulas, and the errors.
#include <boost/test/unit_test.hpp>

#include <map>
#include <string>

#include "attention_testing.h"
#include "common/gradcheck.h"
#include "layers_testing.h"
#include "nn/mha.h"
#include "nn/mla.h"
#include "nn/masks.h"
#include "nn/transformer_decoder.h"

using namespace ag;
using layers_testing::randomize;
using layers_testing::with_parameters;
using testing::check_error;
using testing::max_abs_diff;

namespace {

nn::DecoderConfig small(const std::string& self_type, const std::string& src_type) {
  nn::DecoderConfig c;
  c.vocab_size = 7;
  c.d_model = 8;
  c.num_layers = 2;
  c.ffn_dim = 12;
  c.dropout = 0.0f;
  c.positional_dropout = 0.0f;
  c.self_attention = attn_testing::config(self_type, false);
  c.src_attention = attn_testing::config(src_type, false);
  return c;
}

Tensor ids(const std::vector<int64_t>& v, int64_t B) {
  return from_int_vector(v, {B, static_cast<int64_t>(v.size()) / B});
}

// softmax(q k^T / sqrt(d_k)) v per head in double, for x [B, T, d] against memory [B, S, d]
// through an MHA's projections; keep [B, S] (1 = real frame).
std::vector<float> naive_cross(const nn::MultiHeadAttention& m, const Tensor& x,
                               const Tensor& memory, const std::vector<std::vector<bool>>& keep) {
  NoGradGuard no_grad;
  const int64_t B = x.size(0), T = x.size(1), S = memory.size(1), d = x.size(2);
  const int64_t H = m.config().num_heads, dk = d / H;
  const std::vector<float> q = m.linear_q->forward(x).to_vector();
  const std::vector<float> k = m.linear_k->forward(memory).to_vector();
  const std::vector<float> v = m.linear_v->forward(memory).to_vector();
  std::vector<float> heads(static_cast<size_t>(B * T * d));
  for (int64_t b = 0; b < B; ++b)
    for (int64_t h = 0; h < H; ++h)
      for (int64_t t = 0; t < T; ++t) {
        std::vector<double> w(static_cast<size_t>(S), 0.0);
        double top = -1e300, sum = 0;
        for (int64_t s = 0; s < S; ++s) {
          if (!keep[b][s]) continue;
          double dot = 0;
          for (int64_t j = 0; j < dk; ++j)
            dot += q[(b * T + t) * d + h * dk + j] * k[(b * S + s) * d + h * dk + j];
          w[s] = dot / std::sqrt(static_cast<double>(dk));
          top = std::max(top, w[s]);
        }
        for (int64_t s = 0; s < S; ++s) {
          w[s] = keep[b][s] ? std::exp(w[s] - top) : 0.0;
          sum += w[s];
        }
        for (int64_t j = 0; j < dk; ++j) {
          double o = 0;
          for (int64_t s = 0; s < S; ++s) o += w[s] / sum * v[(b * S + s) * d + h * dk + j];
          heads[(b * T + t) * d + h * dk + j] = static_cast<float>(o);
        }
      }
  return m.linear_out->forward(from_vector(heads, {B, T, d})).to_vector();
}

}  // namespace

BOOST_AUTO_TEST_CASE(parameter_names_are_espnets) {
  nn::DecoderConfig c = small("mha", "mha");
  // The layers force absolute positions and the decoder's width on both attentions.
  c.self_attention = attn_testing::config("mha", true, 16, 2);
  c.src_attention = attn_testing::config("mha", true, 16, 2);
  nn::TransformerDecoder dec(c);
  std::map<std::string, Shape> shapes = layers_testing::parameter_shapes(dec);
  for (const auto& [name, shape] : std::map<std::string, Shape>{
           {"embed.0.weight", {7, 8}},
           {"decoders.0.self_attn.linear_q.weight", {8, 8}},
           {"decoders.1.src_attn.linear_k.bias", {8}},
           {"decoders.0.feed_forward.w_1.weight", {12, 8}},
           {"decoders.1.feed_forward.w_2.bias", {8}},
           {"decoders.0.norm3.weight", {8}},
           {"after_norm.bias", {8}},
           {"output_layer.weight", {7, 8}}}) {
    BOOST_REQUIRE_MESSAGE(shapes.count(name), "no parameter " << name);
    BOOST_CHECK(shapes[name] == shape);
  }
  BOOST_CHECK(!shapes.count("decoders.0.self_attn.linear_pos.weight"));  // absolute only
}

BOOST_AUTO_TEST_CASE(cross_attention_matches_a_naive_reference) {
  manual_seed(41);
  nn::MultiHeadAttention m(attn_testing::config("mha", false));
  randomize(m);
  m.eval();
  Tensor x = normal({2, 3, 8}), memory = normal({2, 5, 8});
  std::vector<std::vector<bool>> keep{{true, true, true, true, true},
                                      {true, true, true, false, false}};
  Tensor mask = attn_testing::padding_mask({5, 3}, 5);  // [2, 1, 5]
  Tensor got = m.forward_cross(x, m.cross_memory(memory), mask);
  Tensor want = from_vector(naive_cross(m, x, memory, keep), {2, 3, 8});
  BOOST_CHECK_LE(max_abs_diff(got, want), 1e-5f * (1.0f + testing::max_abs(want)));
}

BOOST_AUTO_TEST_CASE(gqa_cross_attention_with_every_head_is_mha) {
  manual_seed(45);
  nn::MultiHeadAttention mha(attn_testing::config("mha", false));
  randomize(mha);
  nn::AttentionConfig g = attn_testing::config("gqa", false);
  g.num_kv_heads = g.num_heads;
  auto gqa = nn::make_attention(g);
  {
    NoGradGuard no_grad;
    std::map<std::string, Tensor> same;
    for (auto& [name, p] : mha.named_parameters()) same[name] = p;
    for (auto& [name, p] : gqa->named_parameters()) copy_(p, same.at(name));
  }
  mha.eval();
  gqa->eval();
  Tensor x = normal({2, 3, 8}), memory = normal({2, 5, 8});
  Tensor mask = attn_testing::padding_mask({5, 3}, 5);
  Tensor grouped = gqa->forward_cross(x, gqa->cross_memory(memory), mask);
  BOOST_CHECK_LE(max_abs_diff(grouped, mha.forward_cross(x, mha.cross_memory(memory), mask)), 1e-6f);
}

BOOST_AUTO_TEST_CASE(every_cross_attention_type_ignores_padded_frames) {
  for (const std::string type : {"mha", "gqa", "mla", "mla_simple"}) {
    BOOST_TEST_CONTEXT(type) {
      manual_seed(42);
      nn::AttentionConfig ac = attn_testing::config(type, false);
      if (type == "mla") ac.q_latent_dim = 6;  // the low-rank query path
      auto m = nn::make_attention(ac);
      randomize(*m);
      m->eval();
      Tensor x = normal({2, 3, 8}), memory = normal({2, 5, 8});
      Tensor mask = attn_testing::padding_mask({5, 3}, 5);
      Tensor y = m->forward_cross(x, m->cross_memory(memory), mask);
      BOOST_CHECK(y.shape() == (Shape{2, 3, 8}));
      // New values in batch 1's padded frames 3 and 4 change nothing.
      std::vector<float> v = memory.to_vector();
      for (int64_t s = 3; s < 5; ++s)
        for (int64_t j = 0; j < 8; ++j) v[(5 + s) * 8 + j] = 9.0f;
      Tensor moved = from_vector(v, {2, 5, 8});
      BOOST_CHECK_LE(max_abs_diff(m->forward_cross(x, m->cross_memory(moved), mask), y), 1e-6f);
      if (type == "mla" || type == "mla_simple") {  // the absorbed form is the same function
        auto& mla = dynamic_cast<nn::MultiHeadLatentAttention&>(*m);
        mla.set_absorb(true);
        BOOST_CHECK_LE(max_abs_diff(m->forward_cross(x, m->cross_memory(memory), mask), y), 1e-5f);
      }
    }
  }
  auto linear = nn::make_attention(attn_testing::config("linear", false));
  check_error([&] { linear->cross_memory(normal({1, 3, 8})); },
              "no cross-attention");
  auto relative = nn::make_attention(attn_testing::config("mha", true));
  check_error([&] { relative->cross_memory(normal({1, 3, 8})); },
              "no relative positions");
}

BOOST_AUTO_TEST_CASE(causal_mask_is_padding_and_subsequent) {
  // lengths {2, 3}, L = 3: row i of item b allows j <= i and j < length.
  Tensor m = nn::causal_mask({2, 3}, 3);
  BOOST_REQUIRE(m.shape() == (Shape{2, 3, 3}));
  const std::vector<uint8_t> got(m.data_as<uint8_t>(), m.data_as<uint8_t>() + 18);
  const std::vector<uint8_t> want{1, 0, 0, 1, 1, 0, 1, 1, 0,   // item 0: padded row 2 sees 0, 1
                                  1, 0, 0, 1, 1, 0, 1, 1, 1};  // item 1
  BOOST_CHECK(got == want);
  check_error([] { nn::causal_mask({4}, 3); }, "outside [1, 3]");
}

BOOST_AUTO_TEST_CASE(a_token_never_sees_later_tokens_or_padding) {
  manual_seed(43);
  nn::TransformerDecoder dec(small("mha", "mla"));
  randomize(dec);
  dec.eval();
  Tensor memory = normal({2, 5, 8});
  Tensor mask = attn_testing::padding_mask({5, 4}, 5);
  Tensor a = dec.forward(ids({6, 1, 2, 3, 6, 4, 5, 0}, 2), {4, 3}, memory, mask);  // [2, 4, 7]
  // Changing token 2 of row 0 changes positions 2.. only; row 1's padded token 3 nothing real.
  Tensor b = dec.forward(ids({6, 1, 5, 3, 6, 4, 5, 2}, 2), {4, 3}, memory, mask);
  // [row, first position, positions] of a logits tensor
  auto part = [](const Tensor& t, int64_t row, int64_t first, int64_t n) {
    return narrow(narrow(t, 0, row, 1), 1, first, n);
  };
  BOOST_CHECK_LE(max_abs_diff(part(a, 0, 0, 2), part(b, 0, 0, 2)), 1e-6f);
  BOOST_CHECK_GT(max_abs_diff(part(a, 0, 2, 2), part(b, 0, 2, 2)), 1e-4f);
  BOOST_CHECK_LE(max_abs_diff(part(a, 1, 0, 3), part(b, 1, 0, 3)), 1e-6f);
}

BOOST_AUTO_TEST_CASE(gradients_match_finite_differences) {
  manual_seed(44);
  nn::DecoderConfig c = small("gqa", "mha");
  c.num_layers = 1;
  nn::TransformerDecoder dec(c);
  randomize(dec, 0.3f);
  dec.eval();
  Tensor tokens = ids({6, 1, 2, 6, 3, 0}, 2);
  Tensor mask = attn_testing::padding_mask({4, 3}, 4);
  std::vector<Tensor> inputs = with_parameters(normal({2, 4, 8}), dec);
  testing::check_gradients(
      [&](const std::vector<Tensor>& in) { return dec.forward(tokens, {3, 2}, in[0], mask); },
      inputs,
      {.eps = 1e-3f, .rtol = 2e-2f, .max_checked = 60,
       .zero_gradient = layers_testing::softmax_cancelled_biases(dec, "mha"),
       .unresolved_covered_by = "the layer tests (test_attention, test_layers)"});
}

// One memory of batch 1 serves a batch of queries as the same memory repeated per item.
BOOST_AUTO_TEST_CASE(cross_memory_of_batch_one_is_shared) {
  for (const std::string type : {"mha", "gqa", "mla"}) {
    BOOST_TEST_CONTEXT(type) {
      manual_seed(46);
      auto m = nn::make_attention(attn_testing::config(type, false));
      randomize(*m);
      m->eval();
      Tensor x = normal({3, 2, 8}), memory = normal({1, 5, 8});
      Tensor shared = m->forward_cross(x, m->cross_memory(memory), Tensor());
      Tensor repeated = m->forward_cross(x, m->cross_memory(broadcast_to(memory, {3, 5, 8})),
                                         Tensor());
      BOOST_CHECK_LE(max_abs_diff(shared, repeated), 1e-6f);
    }
  }
}

// Feeding tokens one at a time through the caches gives forward()'s log-probabilities on the
// whole prefixes, also after the beam keeps, reorders and repeats hypotheses; the caches hold
// what their formulas say.
BOOST_AUTO_TEST_CASE(incremental_decoding_equals_full_recomputation) {
  for (const auto& [self_type, src_type] :
       std::vector<std::pair<std::string, std::string>>{
           {"mha", "mha"}, {"gqa", "gqa"}, {"mla", "mla"}, {"mla_simple", "mha"},
           {"linear", "mla_simple"}}) {
    BOOST_TEST_CONTEXT(self_type << " / " << src_type) {
      manual_seed(47);
      nn::TransformerDecoder dec(small(self_type, src_type));
      randomize(dec);
      dec.eval();
      const int64_t S = 5;
      Tensor memory = normal({1, S, 8});
      // Two hypotheses: rows of tokens fed in order (sos = 6 first).
      std::vector<std::vector<int64_t>> hyps{{6, 1, 2}, {6, 3, 3}};
      nn::DecoderState state = dec.start(memory);
      BOOST_CHECK_EQUAL(state.src_bytes(), dec.src_cache_bytes(S));
      std::vector<Tensor> steps;  // log-probabilities [2, V] after each token
      state.select(from_int_vector({0, 0}, {2}));  // one start, two hypotheses
      for (int64_t t = 0; t < 3; ++t) {
        if (t == 2) {  // the beam swaps its hypotheses and keeps both
          std::swap(hyps[0], hyps[1]);
          state.select(from_int_vector({1, 0}, {2}));
          for (Tensor& p : steps) p = index_select(p, 0, from_int_vector({1, 0}, {2}));
        }
        steps.push_back(dec.step(from_int_vector({hyps[0][t], hyps[1][t]}, {2}), state));
        BOOST_CHECK_EQUAL(state.self_bytes(), 2 * dec.self_cache_bytes(t + 1));
      }
      Tensor full = log_softmax(dec.forward(from_int_vector({hyps[0][0], hyps[0][1], hyps[0][2],
                                                             hyps[1][0], hyps[1][1], hyps[1][2]},
                                                            {2, 3}),
                                            {3, 3}, broadcast_to(memory, {2, S, 8}), Tensor()),
                                -1);  // [2, 3, V]
      for (int64_t t = 0; t < 3; ++t)
        BOOST_CHECK_LE(max_abs_diff(steps[t], reshape(narrow(full, 1, t, 1), {2, 7})), 1e-5f);
    }
  }
}

BOOST_AUTO_TEST_CASE(cache_bytes_per_token_and_frame_follow_the_attention_types) {
  nn::DecoderConfig c = small("mla", "gqa");
  c.self_attention.latent_dim = 4;
  c.src_attention.num_kv_heads = 1;
  nn::TransformerDecoder dec(c);
  // 2 layers, fp32: mla keeps latent_dim floats per token; gqa 2 * d * G / H per frame.
  BOOST_CHECK_EQUAL(dec.self_cache_bytes(3), 3 * 2 * 4 * 4);
  BOOST_CHECK_EQUAL(dec.src_cache_bytes(5), 5 * 2 * 4 * (2 * 8 * 1 / 2));
  // linear self-attention: a state of H d_k (d_k + 1) floats per layer, whatever the tokens
  nn::TransformerDecoder linear(small("linear", "mha"));
  BOOST_CHECK_EQUAL(linear.self_cache_bytes(1), linear.self_cache_bytes(9));
  BOOST_CHECK_EQUAL(linear.self_cache_bytes(1), 2 * 4 * 2 * 4 * 5);
}

BOOST_AUTO_TEST_CASE(bad_configs_and_inputs_are_refused) {
  nn::DecoderConfig c = small("mha", "linear");
  check_error([&] { nn::TransformerDecoder d(c); }, "src_attention type 'linear'");
  c = small("mha", "mha");
  c.vocab_size = 1;
  check_error([&] { nn::TransformerDecoder d(c); }, "vocab_size 1");
  nn::TransformerDecoder dec(small("mha", "mha"));
  check_error([&] { dec.forward(ids({1, 2}, 1), {2}, normal({1, 3, 6}), Tensor()); },
              "is not [B, S, 8] or [1, S, 8]");
  check_error([&] { dec.forward(ids({1, 9}, 1), {2}, normal({1, 3, 8}), Tensor()); },
              "index_select");
}
