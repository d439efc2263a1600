// Conversion of a hybrid model's decoder (--part decoder): its self- and cross-attentions
// exact at full rank (plain and calibrated on teacher-forced inputs) and as GQA with every
// head, the error growing as the rank falls, the encoder left as it was, the config and the
// cache bytes of the converted decoder, and the refusals.
#include <boost/test/unit_test.hpp>

#include "common/gradcheck.h"
#include "convert_testing.h"
#include "nn/masks.h"

using asr::Matrix;
using namespace testing;

namespace {

asr::Config hybrid_config() {
  asr::Config c = tiny_config();
  c.hybrid.decoder = "transformer";
  nn::DecoderConfig& d = c.hybrid.decoder_conf;
  d.num_layers = 2;
  d.ffn_dim = 48;
  d.dropout = d.positional_dropout = 0;
  d.self_attention.dropout = d.src_attention.dropout = 0;
  asr::sync_decoder(c);
  return c;
}

std::shared_ptr<asr::AsrModel> hybrid_model(const asr::Config& c) {
  ag::manual_seed(5);
  auto m = std::make_shared<asr::AsrModel>(c.model, kVocab, c.hybrid.decoder_config());
  m->eval();
  return m;
}

// The batches with transcripts of a few tokens.
std::vector<asr::Batch> batches_with_targets() {
  std::vector<asr::Batch> batches = random_batches();
  for (asr::Batch& b : batches)
    for (size_t i = 0; i < b.targets.size(); ++i)
      b.targets[i] = {1 + static_cast<int64_t>(i), 3, 7, 2, 11};
  return batches;
}

// ||logits_conv - logits_mha|| / ||logits_mha|| of the decoder, teacher-forced.
double decoder_error(asr::AsrModel& mha, asr::AsrModel& conv,
                     const std::vector<asr::Batch>& batches) {
  ag::NoGradGuard no_grad;
  double diff = 0, ref = 0;
  for (const asr::Batch& b : batches) {
    nn::EncoderOutput enc = mha.encoder->forward(b.feats, b.lengths);
    const int64_t B = b.size(), L = 6;
    std::vector<int64_t> in(static_cast<size_t>(B * L), mha.sos_eos());
    for (int64_t n = 0; n < B; ++n)
      for (int64_t i = 0; i < 5; ++i) in[n * L + 1 + i] = b.targets[n][i];
    const ag::Tensor tokens = ag::from_int_vector(in, {B, L});
    const ag::Tensor mask = nn::attention_mask(enc.lengths, enc.out.size(1), 0, -1);
    const std::vector<int64_t> steps(B, L);
    const std::vector<float> a =
        mha.decoder->forward(tokens, steps, enc.out, mask).to_vector();
    const std::vector<float> c =
        conv.decoder->forward(tokens, steps, enc.out, mask).to_vector();
    for (size_t i = 0; i < a.size(); ++i) {
      diff += (a[i] - c[i]) * (a[i] - c[i]);
      ref += a[i] * a[i];
    }
  }
  return std::sqrt(diff / ref);
}

asr::ConvertOptions decoder_latent(const std::string& to, int64_t r) {
  asr::ConvertOptions o = latent(to, r);
  o.part = "decoder";
  return o;
}

}  // namespace

BOOST_AUTO_TEST_CASE(full_rank_decoder_reproduces_mha_plain_and_calibrated) {
  const asr::Config cfg = hybrid_config();
  auto mha = hybrid_model(cfg);
  const auto batches = batches_with_targets();
  const std::vector<Matrix> grams =
      asr::input_grams(asr::capture_decoder_inputs(*mha, batches));
  BOOST_REQUIRE_EQUAL(grams.size(), 4u);  // 2 layers x (self, src)
  for (const std::string to : {"mla_simple", "mla"}) {
    for (bool calibrated : {false, true}) {
      BOOST_TEST_CONTEXT(to << (calibrated ? " calibrated" : " plain")) {
        asr::ConvertOptions o = decoder_latent(to, 2 * kDim);
        if (to == "mla") o.q_latent_dim = kDim;
        asr::Conversion c =
            asr::convert_model(cfg, *mha, o, calibrated ? grams : std::vector<Matrix>{});
        BOOST_CHECK_EQUAL(c.layers.size(), 4u);
        BOOST_CHECK_LT(decoder_error(*mha, *c.model, batches), 1e-4);
        // The encoder stays MHA, untouched; the decoder's config names the new attention.
        BOOST_CHECK_EQUAL(c.config.model.attention.type, "mha");
        BOOST_CHECK_EQUAL(c.config.hybrid.decoder_conf.self_attention.type, to);
        BOOST_CHECK_EQUAL(c.config.hybrid.decoder_conf.src_attention.latent_dim, 2 * kDim);
        const auto before = mha->encoder->parameters(), after = c.model->encoder->parameters();
        BOOST_REQUIRE_EQUAL(before.size(), after.size());
        for (size_t i = 0; i < before.size(); ++i)
          BOOST_CHECK_EQUAL(testing::max_abs_diff(before[i], after[i]), 0.0f);
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(decoder_error_grows_as_the_latent_shrinks_and_caches_follow) {
  const asr::Config cfg = hybrid_config();
  auto mha = hybrid_model(cfg);
  const auto batches = batches_with_targets();
  double previous = 0;
  for (int64_t r : {48, 16, 4}) {
    asr::Conversion c = asr::convert_model(cfg, *mha, decoder_latent("mla_simple", r));
    const double e = decoder_error(*mha, *c.model, batches);
    BOOST_TEST_MESSAGE("latent " << r << ": decoder logits relative error " << e);
    BOOST_CHECK_GT(e, previous);
    previous = e;
    // r floats per token and per encoder frame in each of the 2 layers, fp32.
    BOOST_CHECK_EQUAL(c.model->decoder->self_cache_bytes(1), 2 * r * 4);
    BOOST_CHECK_EQUAL(c.model->decoder->src_cache_bytes(1), 2 * r * 4);
    const asr::QualityReport q = asr::conversion_summary(*mha, c);
    BOOST_CHECK_EQUAL(q.cache_floats_per_frame_before, 2 * 2 * kDim);
    BOOST_CHECK_EQUAL(q.cache_floats_per_frame_after, 2 * r);
  }
}

BOOST_AUTO_TEST_CASE(decoder_gqa_with_every_head_is_exact) {
  const asr::Config cfg = hybrid_config();
  auto mha = hybrid_model(cfg);
  asr::ConvertOptions o;
  o.part = "decoder";
  o.to = "gqa";
  o.kv_heads = kHeads;
  asr::Conversion c = asr::convert_model(cfg, *mha, o);
  BOOST_CHECK_LT(decoder_error(*mha, *c.model, batches_with_targets()), 1e-5);
  o.kv_heads = 1;
  asr::Conversion one = asr::convert_model(cfg, *mha, o);
  BOOST_CHECK_EQUAL(one.config.hybrid.decoder_conf.src_attention.num_kv_heads, 1);
  BOOST_CHECK_GT(decoder_error(*mha, *one.model, batches_with_targets()), 1e-3);
}

BOOST_AUTO_TEST_CASE(decoder_part_refusals_name_the_problem) {
  const asr::Config cfg = hybrid_config();
  asr::ConvertOptions o = decoder_latent("mla", 8);
  o.energy = 0.9;
  o.latent_dim.reset();
  check_error([&] { asr::check_convert_options(cfg, o); }, "one rank for all its attentions");
  check_error([&] { asr::check_convert_options(tiny_config(), decoder_latent("mla", 8)); },
              "has no attention decoder");
  asr::Config converted = cfg;
  converted.hybrid.decoder_conf.self_attention.type = "mla";
  converted.hybrid.decoder_conf.self_attention.latent_dim = 8;
  check_error([&] { asr::check_convert_options(converted, decoder_latent("mla", 8)); },
              "converts mha ones only");
  asr::ConvertOptions bad = decoder_latent("mla", 8);
  bad.part = "both";
  check_error([&] { asr::check_convert_options(cfg, bad); }, "--part 'both'");
  asr::ConvertOptions groups;
  groups.part = "decoder";
  groups.to = "gqa";
  groups.kv_heads = 3;
  check_error([&] { asr::check_convert_options(cfg, groups); },
              "--kv-heads 3 must be at least 1 and divide the decoder's num_heads (4)");
}
