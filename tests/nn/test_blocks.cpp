// Conformer and Branchformer blocks with every attention variant: shapes, parameter names
// and counts, gradients, and padded frames never reaching real ones.
#include <boost/test/unit_test.hpp>

#include "common/gradcheck.h"
#include "layers_testing.h"
#include "nn/branchformer_block.h"
#include "nn/conformer_block.h"
#include "nn/encoder.h"
#include "nn/masks.h"
#include "nn/positional_encoding.h"

using namespace ag;
using namespace layers_testing;
using testing::check_gradients;

namespace {
const int64_t d = 8, ffn = 12, K = 3, units = 10;

nn::EncoderConfig small_config(const std::string& type, const std::string& attention,
                               bool relative, const std::string& merge = "concat") {
  nn::EncoderConfig c;
  c.type = type;
  c.d_model = d;
  c.ffn_dim = ffn;
  c.conv_kernel = K;
  c.cgmlp_dim = units;
  c.merge = merge;
  c.dropout = 0.0f;
  c.positional_encoding = relative ? "relative" : "absolute";
  c.attention.type = attention;
  c.attention.num_heads = 2;
  c.attention.latent_dim = 4;
  c.attention.num_kv_heads = 1;
  c.attention.dropout = 0.0f;
  return c;
}

// The variants make_attention builds so far (the others are skipped with a message).
std::vector<std::string> attention_types() {
  std::vector<std::string> built;
  for (std::string t : {"mha", "mla", "mla_simple", "gqa", "linear"}) {
    try {
      nn::make_attention(nn::layer_attention_config(small_config("conformer", t, true)));
      built.push_back(t);
    } catch (const ag::Error& e) {
      BOOST_TEST_MESSAGE("attention " << t << " skipped: " << e.what());
    }
  }
  return built;
}

struct Variant {
  std::string name;
  nn::EncoderConfig config;
};

// Every block kind x attention type x positional encoding.
std::vector<Variant> variants() {
  std::vector<Variant> out;
  for (const std::string& a : attention_types())
    for (bool rel : {true, false}) {
      const std::string suffix = " " + a + (rel ? " relative" : " absolute");
      out.push_back({"conformer" + suffix, small_config("conformer", a, rel)});
      out.push_back({"branchformer concat" + suffix, small_config("branchformer", a, rel)});
      out.push_back({"branchformer learned_ave" + suffix, small_config("branchformer", a, rel, "learned_ave")});
    }
  return out;
}

std::shared_ptr<nn::EncoderBlock> make_block(const nn::EncoderConfig& c) {
  auto attention = nn::make_attention(nn::layer_attention_config(c));
  if (c.type == "conformer") return std::make_shared<nn::ConformerBlock>(c, attention);
  return std::make_shared<nn::BranchformerBlock>(c, attention);
}

// Parameters of the block outside its attention, by formula.
int64_t block_parameters(const nn::EncoderConfig& c) {
  const int64_t ff = d * ffn + ffn + ffn * d + d, norm = 2 * d;
  if (c.type == "conformer") {
    const int64_t conv = (2 * d * d + 2 * d) + (d * K + d) + 2 * d + (d * d + d);
    return 2 * ff + conv + 5 * norm;
  }
  const int64_t h = units / 2;
  const int64_t cgmlp = (d * units + units) + 2 * h + (h * K + h) + (h * d + d);
  const int64_t merge = c.merge == "concat" ? 2 * d * d + d : 4 * (d + 1) + d * d + d;
  return cgmlp + 3 * norm + merge;
}

Tensor pos_emb_for(const nn::EncoderConfig& c, int64_t T) {
  if (c.positional_encoding != "relative") return Tensor();
  nn::RelPositionalEncoding pe(c.d_model, 0.0f);
  return pe.forward(zeros({1, T, c.d_model})).second;
}
}  // namespace

BOOST_AUTO_TEST_CASE(shapes_and_parameter_counts) {
  manual_seed(20);
  for (const Variant& v : variants()) {
    BOOST_TEST_CONTEXT(v.name) {
      auto block = make_block(v.config);
      BOOST_CHECK_EQUAL(block->num_parameters(),
                        block_parameters(v.config) + block->attention().num_parameters());
      Tensor x = normal({2, 6, d});
      Tensor y = block->forward(x, nn::attention_mask({6, 4}, 6, 0, -1),
                                nn::padding_mask({6, 4}, 6), pos_emb_for(v.config, 6));
      BOOST_CHECK(y.shape() == x.shape());
      Tensor y2 = block->forward(x, Tensor(), Tensor(), pos_emb_for(v.config, 6));
      BOOST_CHECK(y2.shape() == x.shape());
    }
  }
  // MHA by formula: q, k, v, out projections (+ linear_pos and the two [H, d_k] biases).
  auto mha = make_block(small_config("conformer", "mha", true));
  BOOST_CHECK_EQUAL(mha->attention().num_parameters(), 4 * (d * d + d) + d * d + 2 * d);
  auto mha_abs = make_block(small_config("conformer", "mha", false));
  BOOST_CHECK_EQUAL(mha_abs->attention().num_parameters(), 4 * (d * d + d));
}

BOOST_AUTO_TEST_CASE(parameter_names_follow_espnet) {
  auto shapes = parameter_shapes(*make_block(small_config("conformer", "mha", true)));
  for (std::string n : {"feed_forward_macaron.w_1.weight", "feed_forward.w_2.bias",
                        "self_attn.linear_q.weight", "self_attn.pos_bias_u", "norm_ff.weight",
                        "norm_mha.bias", "norm_ff_macaron.weight", "norm_conv.weight", "norm_final.bias"})
    BOOST_CHECK_MESSAGE(shapes.count(n), "conformer block lacks " << n);
  BOOST_CHECK(shapes["conv_module.pointwise_conv1.weight"] == (Shape{2 * d, d, 1}));
  BOOST_CHECK(shapes["conv_module.depthwise_conv.weight"] == (Shape{d, 1, K}));

  auto concat = parameter_shapes(*make_block(small_config("branchformer", "mha", true)));
  for (std::string n : {"attn.linear_q.weight", "cgmlp.channel_proj1.0.weight", "cgmlp.csgu.norm.weight",
                        "cgmlp.csgu.conv.weight", "cgmlp.channel_proj2.weight", "norm_mha.weight",
                        "norm_mlp.weight", "norm_final.weight"})
    BOOST_CHECK_MESSAGE(concat.count(n), "branchformer block lacks " << n);
  BOOST_CHECK(concat["merge_proj.weight"] == (Shape{d, 2 * d}));
  BOOST_CHECK(!concat.count("pooling_proj1.weight"));

  auto ave = parameter_shapes(*make_block(small_config("branchformer", "mha", true, "learned_ave")));
  for (std::string n : {"pooling_proj1", "pooling_proj2", "weight_proj1", "weight_proj2"})
    BOOST_CHECK(ave[n + ".weight"] == (Shape{1, d}));
  BOOST_CHECK(ave["merge_proj.weight"] == (Shape{d, d}));
  testing::check_error([] { make_block(small_config("branchformer", "mha", true, "mean")); }, "merge 'mean'");
}

BOOST_AUTO_TEST_CASE(gradients) {
  // Relative positions throughout; absolute ones once (the attention tests cover both).
  manual_seed(21);
  for (const Variant& v : variants()) {
    if (v.config.positional_encoding == "absolute" && v.name != "conformer mha absolute") continue;
    BOOST_TEST_CONTEXT(v.name) {
      auto block = make_block(v.config);
      randomize(*block, 0.3f);
      block->eval();  // running batch-norm statistics: no batch coupling
      const std::vector<int64_t> lengths{5, 3};
      Tensor att = nn::attention_mask(lengths, 5, 0, -1), pad = nn::padding_mask(lengths, 5);
      Tensor pos = pos_emb_for(v.config, 5);
      check_gradients(
          [&](const std::vector<Tensor>& in) { return block->forward(in[0], att, pad, pos); },
          with_parameters(normal({2, 5, d}), *block),
          {.eps = 1e-3f, .rtol = 2e-2f, .max_checked = 200,
           .zero_gradient = softmax_cancelled_biases(*block, v.config.attention.type),
           .unresolved_covered_by = "the layer tests (test_attention, test_mla, test_gqa, "
                                    "test_linear_attention, test_layers)"});
    }
  }
}

BOOST_AUTO_TEST_CASE(padded_frames_never_reach_real_ones) {
  manual_seed(22);
  const std::vector<int64_t> lengths{7, 4};
  auto real = [&](int64_t b, int64_t t) { return t < lengths[b]; };
  for (const Variant& v : variants()) {
    for (int64_t chunk : {0, 2}) {
      BOOST_TEST_CONTEXT(v.name << " chunk " << chunk) {
        auto block = make_block(v.config);
        randomize(*block, 0.3f);
        block->eval();
        Tensor att = nn::attention_mask(lengths, 7, chunk, -1), pad = nn::padding_mask(lengths, 7);
        Tensor pos = pos_emb_for(v.config, 7);
        Tensor x = normal({2, 7, d});
        Tensor y = block->forward(x, att, pad, pos);
        Tensor x2 = perturb_frames(x, [&](int64_t b, int64_t t) { return !real(b, t); });
        BOOST_CHECK_LE(max_diff_at(y, block->forward(x2, att, pad, pos), real), 1e-5f);
        // The short item alone, unpadded, gives the same real frames.
        Tensor alone = narrow(narrow(x, 0, 1, 1), 1, 0, 4);  // [1, 4, d]
        Tensor att1 = chunk ? nn::attention_mask({4}, 4, chunk, -1) : Tensor();
        Tensor y1 = block->forward(alone, att1, Tensor(), pos_emb_for(v.config, 4));
        Tensor y_short = narrow(narrow(y, 0, 1, 1), 1, 0, 4);
        BOOST_CHECK_LE(testing::max_abs_diff(y1, y_short), 1e-5f);
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(dropout_only_in_training) {
  manual_seed(23);
  nn::EncoderConfig c = small_config("conformer", "mha", true);
  c.dropout = 0.3f;
  auto block = make_block(c);
  Tensor x = normal({2, 5, d}), pos = pos_emb_for(c, 5);
  BOOST_CHECK_GT(testing::max_abs_diff(block->forward(x, Tensor(), Tensor(), pos),
                                       block->forward(x, Tensor(), Tensor(), pos)), 1e-4f);
  block->eval();
  BOOST_CHECK_EQUAL(testing::max_abs_diff(block->forward(x, Tensor(), Tensor(), pos),
                                          block->forward(x, Tensor(), Tensor(), pos)), 0.0f);
}
