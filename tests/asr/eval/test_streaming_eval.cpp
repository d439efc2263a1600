// asr-eval --streaming's pieces: a padded batch streamed utterance by utterance gives the
// chunk-masked full pass's logits on every real frame (int8 caches: close to it); the cache
// probe matches the formula, float32 and int8; latency statistics.
#include <boost/test/unit_test.hpp>

#include "asr/eval/streaming_eval.h"
#include "common/encoder_testing.h"
#include "common/gradcheck.h"

using namespace ag;

namespace {
// The tests' tiny encoder, causal, with `attention` (MLA at latent 4).
nn::EncoderConfig tiny_causal(const std::string& attention) {
  nn::EncoderConfig c = testing::tiny_encoder_config();
  c.causal = true;
  testing::set_attention(c, {attention, attention, 4});
  return c;
}
}  // namespace

BOOST_AUTO_TEST_CASE(streamed_batch_matches_the_chunk_masked_pass) {
  manual_seed(50);
  asr::AsrModel model(tiny_causal("mla"), 7);
  model.eval();
  asr::Batch batch;
  batch.feats = normal({2, 47, 9});
  batch.lengths = {47, 30};  // 10 and 6 encoder frames
  batch.keys = {"a", "b"};
  std::vector<double> seconds;
  nn::EncoderOutput streamed =
      asr::streamed_logits(model, batch, 4, 1, nn::CacheDtype::f32, seconds);
  nn::EncoderOutput full = model.logits(batch.feats, batch.lengths, 4, 1);
  BOOST_REQUIRE(streamed.lengths == full.lengths);
  BOOST_REQUIRE(streamed.out.shape() == full.out.shape());
  BOOST_CHECK_EQUAL(seconds.size(), 3u + 2u);  // chunks of 4: 4+4+2 and 4+2
  for (int64_t b = 0; b < 2; ++b) {
    auto real = [&](const Tensor& x) { return narrow(narrow(x, 0, b, 1), 1, 0, full.lengths[b]); };
    BOOST_CHECK_LE(testing::max_abs_diff(real(streamed.out), real(full.out)), 2e-5f);
  }
}

BOOST_AUTO_TEST_CASE(cache_probe_reports_measured_and_formula_bytes) {
  manual_seed(51);
  nn::Encoder enc(tiny_causal("mha"));
  enc.eval();
  Tensor feats = normal({1, 4 * 30 + 3, 9});  // 30 encoder frames
  asr::CacheProbe all = asr::probe_cache(enc, feats, 4, -1);
  BOOST_CHECK_EQUAL(all.frames, 30);
  BOOST_CHECK_EQUAL(all.attention_bytes, 2 * (2 * 8) * 4 * 30);  // layers * 2d floats * 4 bytes
  BOOST_CHECK_EQUAL(all.formula_bytes, all.attention_bytes);
  BOOST_CHECK_EQUAL(all.conv_bytes, 2 * 8 * 2 * 4);  // layers * d * (kernel - 1) * 4 bytes
  BOOST_CHECK_GE(all.capacity_bytes, all.attention_bytes);
  BOOST_CHECK_LE(all.capacity_bytes, 2 * (all.attention_bytes + 2 * (2 * 8) * 4 * 4));
  // Shared, not per stream: both layers' projected position tables, >= 59 rows of d floats.
  BOOST_CHECK_GE(all.shared_bytes, 2 * (2 * 30 - 1) * 8 * 4);
  asr::CacheProbe left = asr::probe_cache(enc, feats, 4, 2);
  BOOST_CHECK_EQUAL(left.attention_bytes, 2 * (2 * 8) * 4 * 8);
  BOOST_CHECK_EQUAL(left.formula_bytes, left.attention_bytes);
}

BOOST_AUTO_TEST_CASE(int8_caches_stream_close_and_hold_their_formula_bytes) {
  manual_seed(52);
  for (const std::string attention : {"mha", "mla", "gqa"}) {
    BOOST_TEST_CONTEXT(attention) {
      nn::EncoderConfig c = tiny_causal(attention);
      c.attention.num_kv_heads = attention == "gqa" ? 1 : 0;
      asr::AsrModel model(c, 7);
      model.eval();
      asr::Batch batch;
      batch.feats = normal({1, 47, 9});
      batch.lengths = {47};
      batch.keys = {"a"};
      std::vector<double> seconds;
      const Tensor f32 =
          asr::streamed_logits(model, batch, 4, -1, nn::CacheDtype::f32, seconds).out;
      const Tensor int8 =
          asr::streamed_logits(model, batch, 4, -1, nn::CacheDtype::int8, seconds).out;
      BOOST_CHECK_LE(testing::max_abs_diff(int8, f32), 1e-2f);
      Tensor feats = normal({1, 4 * 30 + 3, 9});  // 30 encoder frames
      asr::CacheProbe p = asr::probe_cache(*model.encoder, feats, 4, 2, nn::CacheDtype::int8);
      BOOST_CHECK_EQUAL(p.attention_bytes, p.formula_bytes);
      BOOST_CHECK_LT(p.attention_bytes,
                     asr::probe_cache(*model.encoder, feats, 4, 2).attention_bytes);
    }
  }
}

BOOST_AUTO_TEST_CASE(latency_statistics) {
  std::vector<double> s;
  for (int i = 1; i <= 20; ++i) s.push_back(i * 1e-3);
  BOOST_CHECK_CLOSE(asr::mean_ms(s), 10.5, 1e-9);
  BOOST_CHECK_CLOSE(asr::p95_ms(s), 19.0, 1e-9);  // nearest rank: the 19th of 20
  BOOST_CHECK_EQUAL(asr::mean_ms({}), 0.0);
  BOOST_CHECK_EQUAL(asr::p95_ms({}), 0.0);
}
