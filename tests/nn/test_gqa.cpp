// Grouped-query attention equivalences: as many key/value heads as heads is MHA; fewer
// key/value heads equal MHA whose key/value projections repeat each group's rows.
#include <boost/test/unit_test.hpp>

#include "attention_testing.h"
#include "autograd/ops.h"

using namespace attn_testing;
using nn::AttentionConfig;

namespace {

void copy_all(const nn::Module& dst, const nn::Module& src) {
  for (auto& [name, t] : src.named_parameters()) set_parameter(dst, name, t);
}

// w [G*d_k, ...] -> [H*d_k, ...] with each group's d_k rows repeated H/G times.
Tensor repeat_heads(const Tensor& w, int64_t G, int64_t H, int64_t dk) {
  std::vector<Tensor> blocks;
  for (int64_t h = 0; h < H; ++h) blocks.push_back(ag::narrow(w, 0, h / (H / G) * dk, dk));
  return ag::concat(blocks, 0);
}

void check_equal_outputs(nn::Attention& a, nn::Attention& b, const AttentionConfig& c) {
  const int64_t T = 6;
  Tensor x = ag::normal({2, T, c.d_model}), pos = pos_emb_for(c, T);
  for (const Tensor& mask : {Tensor(), padding_mask({6, 4}, T), chunk_mask({6, 4}, T, 2)})
    BOOST_CHECK_LE(testing::max_abs_diff(a.forward(x, mask, pos), b.forward(x, mask, pos)), 1e-5f);
}

}  // namespace

BOOST_AUTO_TEST_CASE(gqa_with_as_many_kv_heads_as_heads_is_mha) {
  ag::manual_seed(51);
  for (bool rel : {false, true}) {
    BOOST_TEST_CONTEXT((rel ? "relative" : "absolute")) {
      AttentionConfig c = config("gqa", rel, 16, 4);
      c.num_kv_heads = 4;
      auto gqa = nn::make_attention(c);
      c.type = "mha";
      auto mha = nn::make_attention(c);
      BOOST_CHECK_EQUAL(gqa->num_parameters(), mha->num_parameters());
      copy_all(*gqa, *mha);
      check_equal_outputs(*gqa, *mha, c);
      BOOST_CHECK_EQUAL(gqa->cache_floats_per_frame(), mha->cache_floats_per_frame());
    }
  }
}

BOOST_AUTO_TEST_CASE(gqa_is_mha_with_repeated_kv_heads) {
  ag::manual_seed(52);
  for (bool rel : {false, true})
    for (int64_t G : {1, 2}) {
      BOOST_TEST_CONTEXT((rel ? "relative" : "absolute") << " kv heads " << G) {
        AttentionConfig c = config("gqa", rel, 16, 4);
        c.num_kv_heads = G;
        auto gqa = nn::make_attention(c);
        c.type = "mha";
        auto mha = nn::make_attention(c);
        for (auto& [name, t] : gqa->named_parameters()) {
          const bool kv = name.rfind("linear_k.", 0) == 0 || name.rfind("linear_v.", 0) == 0;
          set_parameter(*mha, name, kv ? repeat_heads(t, G, 4, 4) : t);
        }
        check_equal_outputs(*gqa, *mha, c);
        BOOST_CHECK_EQUAL(gqa->cache_floats_per_frame(), 2 * G * 4);
      }
    }
}
