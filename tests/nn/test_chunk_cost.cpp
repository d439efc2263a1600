// The streaming cost model (nn/chunk_cost.h): each variant's chunk_cost equals the matrix
// products its forward_chunk runs, as ag::gemm_count counts them, across history lengths and
// chunk sizes; mla attends each chunk in the cheaper of its two forms, and both forms give
// the same output.
#include <boost/test/unit_test.hpp>

#include "attention_testing.h"
#include "autograd/ops.h"
#include "nn/mla.h"
#include "nn/positional_encoding.h"

using namespace attn_testing;
using nn::AttentionConfig;
using Form = nn::MultiHeadLatentAttention::ChunkForm;

namespace {

struct Case {
  std::string name;
  AttentionConfig config;
  Form form = Form::cheaper;  // mla only
};

// d 16, heads 4 (or 2); mla folds its output projection at H 2, L 6 and not at H 4, L 6.
std::vector<Case> cases(bool relative) {
  std::vector<Case> out;
  for (const std::string type : {"mha", "gqa", "linear"}) {
    AttentionConfig c = config(type, relative, 16, 4);
    if (type == "gqa") c.num_kv_heads = 2;
    out.push_back({type, c});
  }
  for (int64_t heads : {2, 4})
    for (int64_t q_latent : {0, 3})
      for (Form form : {Form::absorbed, Form::expanded, Form::cheaper}) {
        AttentionConfig c = config("mla", relative, 16, heads);
        c.q_latent_dim = q_latent;
        out.push_back({"mla H " + std::to_string(heads) + " q_latent " + std::to_string(q_latent) +
                           " form " + std::to_string(static_cast<int>(form)),
                       c, form});
      }
  return out;
}

std::shared_ptr<nn::Attention> make(const Case& k) {
  auto a = nn::make_attention(k.config);
  if (auto* mla = dynamic_cast<nn::MultiHeadLatentAttention*>(a.get())) mla->set_chunk_form(k.form);
  a->eval();
  return a;
}

// The layer's shared weights with positions up to 63 (relative) or none.
nn::AttentionStreamWeights shared_for(const nn::Attention& a, const AttentionConfig& c) {
  nn::RelPositionalEncoding pe(c.d_model, 0.0f);
  nn::AttentionStreamWeights w = a.stream_weights();
  if (c.relative) w.pos = a.stream_positions(pe.table(64, ag::Device::cpu));
  return w;
}

}  // namespace

BOOST_AUTO_TEST_CASE(chunk_cost_equals_the_counted_matrix_products) {
  ag::manual_seed(70);
  ag::NoGradGuard no_grad;
  for (bool relative : {true, false})
    for (const Case& k : cases(relative)) {
      auto a = make(k);
      const nn::AttentionStreamWeights shared = shared_for(*a, k.config);
      nn::AttentionCache cache;
      int64_t S = 0;
      for (int64_t T : {3, 5, 1, 4, 4, 2}) {  // histories 0, 3, 8, 9, 13, 17
        BOOST_TEST_CONTEXT(k.name << (relative ? " relative" : " absolute") << ", T " << T
                                  << " after " << S) {
          Tensor x = ag::normal({1, T, k.config.d_model});
          const nn::ChunkCost expect = a->chunk_cost(T, S);
          const ag::GemmCount before = ag::gemm_count();
          a->forward_chunk(x, cache, shared);
          const ag::GemmCount after = ag::gemm_count();
          BOOST_CHECK_EQUAL(after.multiply_adds - before.multiply_adds, expect.multiply_adds);
          BOOST_CHECK_EQUAL(after.bytes_read - before.bytes_read, expect.bytes_read);
        }
        S += T;
      }
    }
}

BOOST_AUTO_TEST_CASE(mla_chunks_take_the_cheaper_form_and_both_forms_agree) {
  ag::manual_seed(71);
  ag::NoGradGuard no_grad;
  for (bool relative : {true, false})
    for (int64_t heads : {2, 4}) {
      BOOST_TEST_CONTEXT((relative ? "relative" : "absolute") << " H " << heads) {
        AttentionConfig c = config("mla", relative, 16, heads);
        nn::MultiHeadLatentAttention m(c);
        m.eval();
        const nn::AttentionStreamWeights shared = shared_for(m, c);
        nn::AttentionCache absorbed, expanded;
        int64_t S = 0;
        for (int64_t T : {3, 5, 4, 4}) {
          Tensor x = ag::normal({1, T, c.d_model});
          m.set_chunk_form(Form::absorbed);
          Tensor ya = m.forward_chunk(x, absorbed, shared);
          m.set_chunk_form(Form::expanded);
          Tensor ye = m.forward_chunk(x, expanded, shared);
          BOOST_CHECK_LE(testing::max_abs_diff(ya, ye), 1e-5f);
          m.set_chunk_form(Form::cheaper);
          const int64_t ca = m.form_cost(Form::absorbed, T, S).multiply_adds;
          const int64_t ce = m.form_cost(Form::expanded, T, S).multiply_adds;
          BOOST_CHECK(m.chunk_form(T, S) == (ca <= ce ? Form::absorbed : Form::expanded));
          BOOST_CHECK_EQUAL(m.chunk_cost(T, S).multiply_adds, std::min(ca, ce));
          S += T;
        }
      }
    }
  // Long chunks over a wide latent re-expand; short chunks attend absorbed.
  AttentionConfig wide = config("mla", true, 16, 4);
  wide.latent_dim = 16;
  nn::MultiHeadLatentAttention m(wide);
  BOOST_CHECK(m.chunk_form(64, 1000) == Form::expanded);
  BOOST_CHECK(m.chunk_form(1, 1000) == Form::absorbed);
}
