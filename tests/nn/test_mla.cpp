// Latent attention equivalences: MLA (and mla_simple, its configuration with a full-rank
// query) built from an exact factorization of MHA reproduces it; mla_simple is mla with
// q_latent_dim 0 (same parameters, same outputs); absorbed MLA equals plain MLA (with and
// without relative positions, low-rank queries, masks, dropout); gradients of the absorbed form.
#include <boost/test/unit_test.hpp>

#include "attention_testing.h"
#include "autograd/ops.h"
#include "common/encoder_testing.h"
#include "layers_testing.h"
#include "nn/encoder.h"
#include "nn/mha.h"
#include "nn/mla.h"

using namespace attn_testing;
using nn::AttentionConfig;
using testing::check_gradients;

namespace {

const int64_t kT = 7;
const std::vector<int64_t> kLengths = {7, 5};

// No mask, padding, and a chunk mask in which item 1's row 2 sees nothing.
std::vector<Tensor> masks() {
  Tensor chunk = chunk_mask(kLengths, kT, 3);
  for (int64_t j = 0; j < kT; ++j) chunk.data_as<uint8_t>()[(kT + 2) * kT + j] = 0;
  return {Tensor(), padding_mask(kLengths, kT), chunk};
}

// Largest |a - b| / (1 + max |b|).
float rel_diff(const Tensor& a, const Tensor& b) {
  float scale = 0;
  for (float v : b.to_vector()) scale = std::max(scale, std::fabs(v));
  return testing::max_abs_diff(a, b) / (1 + scale);
}

Tensor eye(int64_t n) {
  Tensor t = ag::zeros({n, n});
  for (int64_t i = 0; i < n; ++i) t.data()[i * n + i] = 1;
  return t;
}

// Copies the parameters both modules have under the same name.
void copy_common(const nn::Module& dst, const nn::Module& src) {
  for (auto& [name, d] : dst.named_parameters())
    for (auto& [n, s] : src.named_parameters())
      if (n == name) set_parameter(dst, name, s);
}

void check_same_outputs(nn::Attention& a, nn::Attention& b, const AttentionConfig& c, float tol) {
  Tensor x = ag::normal({2, kT, c.d_model}), pos = pos_emb_for(c, kT);
  for (const Tensor& mask : masks()) {
    Tensor ya = a.forward(x, mask, pos), yb = b.forward(x, mask, pos);
    BOOST_CHECK_SMALL(rel_diff(ya, yb), tol);
  }
}

}  // namespace

BOOST_AUTO_TEST_CASE(latent_attention_from_stacked_mha_projections_is_mha) {
  // latent = [x W_k^T, x W_v^T] (latent_dim 2d); W_uk = [I 0], W_uv = [0 I] pick the halves.
  ag::manual_seed(41);
  for (const std::string type : {"mla_simple", "mla"})
    for (bool rel : {false, true}) {
      BOOST_TEST_CONTEXT(type << (rel ? " relative" : " absolute")) {
        AttentionConfig c = config("mha", rel);
        auto mha = nn::make_attention(c);
        const int64_t d = c.d_model;
        c.type = type;
        c.latent_dim = 2 * d;
        auto mla = nn::make_attention(c);
        copy_common(*mla, *mha);  // linear_q, linear_out, relative-position parameters
        Tensor zero = ag::zeros({d, d});
        set_parameter(*mla, "linear_dkv.weight",
                      ag::concat({find_parameter(*mha, "linear_k.weight"),
                                  find_parameter(*mha, "linear_v.weight")}, 0));
        set_parameter(*mla, "linear_uk.weight", ag::concat({eye(d), zero}, 1));
        set_parameter(*mla, "linear_uv.weight", ag::concat({zero, eye(d)}, 1));
        set_parameter(*mla, "linear_uk.bias", find_parameter(*mha, "linear_k.bias"));
        set_parameter(*mla, "linear_uv.bias", find_parameter(*mha, "linear_v.bias"));
        check_same_outputs(*mla, *mha, c, 1e-5f);
        if (type == "mla") {
          static_cast<nn::MultiHeadLatentAttention&>(*mla).set_absorb(true);
          check_same_outputs(*mla, *mha, c, 1e-5f);
        }
      }
    }
}

BOOST_AUTO_TEST_CASE(mla_simple_is_mla_with_a_full_rank_query) {
  // Encoders configured as mla_simple and as mla (q_latent_dim 0) have the same parameter
  // names and shapes, load each other's weights, and give identical outputs offline and
  // streaming.
  ag::manual_seed(47);
  for (const std::string block : {"conformer", "branchformer"})
    for (bool rel : {false, true}) {
      BOOST_TEST_CONTEXT(block << (rel ? " relative" : " absolute")) {
        nn::EncoderConfig c = testing::tiny_encoder_config(block, rel);
        c.causal = true;
        testing::set_attention(c, {"mla_simple", "mla_simple", 5});
        nn::Encoder simple(c);
        layers_testing::randomize(simple, 0.3f);
        testing::set_attention(c, {"mla", "mla", 5});
        nn::Encoder mla(c);
        BOOST_CHECK(layers_testing::parameter_shapes(simple) ==
                    layers_testing::parameter_shapes(mla));
        const nn::NamedTensors weights = simple.state_dict();
        BOOST_CHECK_EQUAL(mla.load_state_dict(weights).size(), weights.size());  // strict
        simple.eval();
        mla.eval();
        Tensor x = ag::normal({1, 31, c.input_dim});
        for (int64_t chunk : {0, 3}) {
          BOOST_CHECK_EQUAL(testing::max_abs_diff(simple.forward(x, {31}, chunk).out,
                                                  mla.forward(x, {31}, chunk).out), 0.0f);
        }
        BOOST_CHECK_EQUAL(testing::max_abs_diff(simple.forward_streaming(x, 3, -1),
                                                mla.forward_streaming(x, 3, -1)), 0.0f);
      }
    }
  // mla_simple's query is always full rank.
  AttentionConfig c = config("mla_simple", true);
  c.q_latent_dim = 3;
  testing::check_error([&] { nn::make_attention(c); },
                       "q_latent_dim 3 with mla_simple, which is mla with a full-rank query");
}

BOOST_AUTO_TEST_CASE(latent_attention_reproduces_a_low_rank_mha) {
  // MHA whose keys and values share a rank-6 factor C: W_k = U_k C, W_v = U_v C.
  ag::manual_seed(42);
  for (const std::string type : {"mla_simple", "mla"})
    for (bool rel : {false, true}) {
      BOOST_TEST_CONTEXT(type << (rel ? " relative" : " absolute")) {
        AttentionConfig c = config(type, rel);  // latent_dim 6 < 2 d_model
        auto mla = nn::make_attention(c);
        c.type = "mha";
        auto mha = nn::make_attention(c);
        copy_common(*mha, *mla);
        Tensor C = find_parameter(*mla, "linear_dkv.weight");  // [6, d]
        set_parameter(*mha, "linear_k.weight", ag::matmul(find_parameter(*mla, "linear_uk.weight"), C));
        set_parameter(*mha, "linear_v.weight", ag::matmul(find_parameter(*mla, "linear_uv.weight"), C));
        set_parameter(*mha, "linear_k.bias", find_parameter(*mla, "linear_uk.bias"));
        set_parameter(*mha, "linear_v.bias", find_parameter(*mla, "linear_uv.bias"));
        check_same_outputs(*mla, *mha, c, 1e-5f);
      }
    }
}

// d 16, latent 6: with 2 heads the absorbed form folds W_uv into the output projection,
// with 4 it applies W_uv, then W_o ((H-1)*L > d); both are checked.
BOOST_AUTO_TEST_CASE(absorbed_mla_equals_plain_mla) {
  ag::manual_seed(43);
  for (bool rel : {false, true})
    for (int64_t q_latent : {0, 3})
      for (int64_t heads : {2, 4}) {
        BOOST_TEST_CONTEXT((rel ? "relative" : "absolute") << " q_latent " << q_latent << " H " << heads) {
          AttentionConfig c = config("mla", rel, 16, heads);
          c.q_latent_dim = q_latent;
          auto m = std::make_shared<nn::MultiHeadLatentAttention>(c);
          Tensor x = ag::normal({2, kT, c.d_model}), pos = pos_emb_for(c, kT);
          for (const Tensor& mask : masks()) {
            m->set_absorb(false);
            Tensor plain = m->forward(x, mask, pos);
            m->set_absorb(true);
            Tensor absorbed = m->forward(x, mask, pos);
            BOOST_CHECK_SMALL(rel_diff(absorbed, plain), 1e-5f);
          }
        }
      }
}

BOOST_AUTO_TEST_CASE(absorbed_mla_equals_plain_mla_under_dropout) {
  // The value bias follows the row sums of the dropped-out weights, which are not 1.
  ag::manual_seed(44);
  for (bool rel : {false, true})
    for (int64_t heads : {2, 4}) {  // folded, unfolded output
      AttentionConfig c = config("mla", rel, 8, heads);
      c.dropout = 0.3f;
      auto m = std::make_shared<nn::MultiHeadLatentAttention>(c);
      BOOST_REQUIRE(m->is_training());
      Tensor x = ag::normal({2, kT, c.d_model}), pos = pos_emb_for(c, kT);
      for (const Tensor& mask : masks()) {
        ag::manual_seed(7);
        Tensor plain = m->forward(x, mask, pos);
        m->set_absorb(true);
        ag::manual_seed(7);
        Tensor absorbed = m->forward(x, mask, pos);
        m->set_absorb(false);
        BOOST_CHECK_SMALL(rel_diff(absorbed, plain), 1e-5f);
        // Dropout was active: another seed drops other weights.
        ag::manual_seed(8);
        BOOST_CHECK_GT(rel_diff(m->forward(x, mask, pos), plain), 1e-3f);
      }
    }
}

BOOST_AUTO_TEST_CASE(absorbed_mla_gradients) {
  ag::manual_seed(45);
  for (bool rel : {false, true})
    for (int64_t heads : {2, 4}) {  // folded, unfolded output
      BOOST_TEST_CONTEXT((rel ? "relative" : "absolute") << " H " << heads) {
        AttentionConfig c = config("mla", rel, 8, heads);
        c.q_latent_dim = 3;
        auto m = std::make_shared<nn::MultiHeadLatentAttention>(c);
        m->set_absorb(true);
        const int64_t T = 5;
        Tensor mask = padding_mask({5, 3}, T), pos = pos_emb_for(c, T);
        check_gradients([&](auto& in) { return m->forward(in[0], mask, pos); },
                        {ag::normal({2, T, c.d_model})});
        std::vector<Tensor> params;
        for (const char* n : {"linear_dq.weight", "linear_dkv.weight", "linear_uk.weight",
                              "linear_uv.weight", "linear_uv.bias", "linear_out.weight"})
          params.push_back(find_parameter(*m, n));
        if (rel) params.push_back(find_parameter(*m, "pos_bias_u"));
        Tensor x = ag::normal({2, T, c.d_model});
        m->zero_grad();  // drop what the first check accumulated
        check_gradients([&](auto&) { return m->forward(x, mask, pos); }, params);
      }
    }
}

BOOST_AUTO_TEST_CASE(latent_is_the_cached_state) {
  ag::manual_seed(46);
  AttentionConfig c = config("mla", false);
  nn::MultiHeadLatentAttention m(c);
  Tensor x = ag::normal({2, 3, c.d_model});
  BOOST_CHECK(m.latent(x).shape() == (Shape{2, 3, c.latent_dim}));
  BOOST_CHECK_EQUAL(m.cache_floats_per_frame(), c.latent_dim);
  BOOST_CHECK(!m.absorb());
}
