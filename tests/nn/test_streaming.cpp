// Streaming (docs/streaming.md): the chunk-by-chunk pass through the caches equals the full
// pass under the matching chunk mask, for every attention variant, both block types and both
// kinds of positions; the caches hold exactly the bytes the formula says.
#include <boost/test/unit_test.hpp>

#include "common/encoder_testing.h"
#include "common/gradcheck.h"
#include "layers_testing.h"
#include "nn/conformer_block.h"
#include "nn/encoder.h"
#include "nn/linear_attention.h"
#include "nn/mla.h"

using namespace ag;
using namespace layers_testing;
using testing::check_error;
using testing::max_abs_diff;

namespace {
using testing::AttentionVariant;
const nn::EncoderConfig kTiny = testing::tiny_encoder_config();
const int64_t F = kTiny.input_dim, d = kTiny.d_model, kernel = kTiny.conv_kernel,
              cgmlp_dim = kTiny.cgmlp_dim;

const std::vector<AttentionVariant>& variants() { return testing::tiny_attention_variants(); }

// The tests' tiny causal encoder with attention v. block: conformer, "conformer layer_norm"
// (its conv module's norm) or branchformer.
nn::EncoderConfig config(const AttentionVariant& v, const std::string& block, bool relative) {
  nn::EncoderConfig c = testing::tiny_encoder_config(block.substr(0, block.find(' ')), relative);
  if (block == "conformer layer_norm") c.conv_norm = "layer_norm";
  c.causal = true;
  testing::set_attention(c, v);
  return c;
}

std::unique_ptr<nn::Encoder> random_encoder(const nn::EncoderConfig& c) {
  auto enc = std::make_unique<nn::Encoder>(c);
  randomize(*enc, 0.3f);
  enc->eval();
  return enc;
}
}  // namespace

BOOST_AUTO_TEST_CASE(windows_cover_the_subsampled_frames_exactly) {
  // 51 input frames -> 12 encoder frames; chunks of 5: 5 + 5 + 2.
  auto w = nn::stream_windows(51, 5);
  BOOST_REQUIRE_EQUAL(w.size(), 3u);
  BOOST_CHECK_EQUAL(w[0].start, 0);
  BOOST_CHECK_EQUAL(w[0].length, 23);  // 4 * (5 - 1) + 7
  BOOST_CHECK_EQUAL(w[1].start, 20);
  BOOST_CHECK_EQUAL(w[2].start, 40);
  BOOST_CHECK_EQUAL(w[2].length, 11);
  BOOST_CHECK_EQUAL(nn::Conv2dSubsampling::output_length(w[2].length), 2);
  BOOST_CHECK_EQUAL(nn::stream_windows(7, 1).size(), 1u);
  check_error([] { nn::stream_windows(51, 0); }, "chunk_size 0");
}

BOOST_AUTO_TEST_CASE(streaming_equals_the_chunk_masked_full_pass) {
  manual_seed(40);
  const int64_t T = 51;  // 12 encoder frames
  for (const AttentionVariant& v : variants())
    for (const std::string block : {"conformer", "conformer layer_norm", "branchformer"})
      for (bool relative : {true, false}) {
        auto enc = random_encoder(config(v, block, relative));
        Tensor x = normal({1, T, F});
        for (int64_t chunk : {1, 4, 5})
          for (int64_t left : {-1, 2}) {
            if (left >= 0 && v.type == "linear") continue;  // refused, see below
            BOOST_TEST_CONTEXT(v.name << " " << block << (relative ? " relative" : " absolute")
                                      << ", chunk " << chunk << ", left_chunks " << left) {
              Tensor full = enc->forward(x, {T}, chunk, left).out;  // [1, 12, d]
              Tensor streamed = enc->forward_streaming(x, chunk, left);
              BOOST_CHECK_LE(max_abs_diff(full, streamed), 2e-5f);
            }
          }
      }
}

BOOST_AUTO_TEST_CASE(mla_streams_exactly_in_either_form) {
  // The tiny model's chunks take the absorbed form by the cost model; re-expanded chunks
  // must equal the full pass too.
  manual_seed(45);
  using Form = nn::MultiHeadLatentAttention::ChunkForm;
  const int64_t T = 51;
  for (Form form : {Form::absorbed, Form::expanded})
    for (bool relative : {true, false}) {
      auto enc = random_encoder(config(variants()[1], "conformer", relative));
      for (const auto& block : *enc->layers)
        std::dynamic_pointer_cast<nn::MultiHeadLatentAttention>(
            dynamic_cast<nn::ConformerBlock&>(*block).self_attn)
            ->set_chunk_form(form);
      Tensor x = normal({1, T, F});
      for (int64_t left : {-1, 0, 2}) {
        BOOST_TEST_CONTEXT("form " << static_cast<int>(form)
                                   << (relative ? " relative" : " absolute") << ", left_chunks "
                                   << left) {
          Tensor full = enc->forward(x, {T}, 4, left).out;
          BOOST_CHECK_LE(max_abs_diff(full, enc->forward_streaming(x, 4, left)), 2e-5f);
        }
      }
    }
}

BOOST_AUTO_TEST_CASE(streams_share_the_weights_derived_once_per_model) {
  manual_seed(46);
  auto enc = random_encoder(config(variants()[1], "conformer", true));  // mla, relative
  std::weak_ptr<nn::EncoderStreamWeights> seen;
  {
    nn::EncoderCache a = enc->make_cache(4, -1), b = enc->make_cache(4, -1);
    BOOST_REQUIRE(a.shared);
    BOOST_CHECK_EQUAL(a.shared.get(), b.shared.get());  // derived once, for both streams
    BOOST_CHECK_EQUAL(enc->stream_weights().get(), a.shared.get());
    seen = a.shared;
    const Tensor absorbed = a.shared->layers[0].absorbed.out;  // derived with the object
    BOOST_CHECK(absorbed.defined());
    Tensor x = normal({1, 4 * 30 + 3, F});  // 30 encoder frames
    for (const nn::FrameWindow& w : nn::stream_windows(x.size(1), 4))
      enc->forward_chunk(narrow(x, 1, w.start, w.length), a);
    // The position table grew for a's history, for both streams; the absorbed weights stay.
    BOOST_CHECK_GE(b.shared->positions, 30);
    BOOST_CHECK(b.shared->layers[0].absorbed.out.same(absorbed));
    BOOST_CHECK_GT(a.shared->bytes(), 0);
    // Weights are not history: the cache holds the latents only.
    BOOST_CHECK_EQUAL(a.attention_bytes(), enc->cache_bytes_formula(30));
    BOOST_CHECK_GE(a.attention_capacity_bytes(), a.attention_bytes());
    BOOST_CHECK_EQUAL(b.attention_bytes(), 0);
  }
  BOOST_CHECK(seen.expired());  // the next stream derives them anew
}

BOOST_AUTO_TEST_CASE(int8_caches_follow_their_formula_and_stay_close) {
  // Keys per channel, values and latents per token: the bytes are the formula's (codes and
  // scales), and the stream stays near the float32 one.
  manual_seed(47);
  const int64_t T = 4 * 22 + 3, chunk = 4;  // 22 frames: 5 chunks of 4, one of 2
  for (const AttentionVariant& v : variants()) {
    if (v.type == "linear") continue;
    for (int64_t left : {-1, 2}) {
      BOOST_TEST_CONTEXT(v.name << ", left_chunks " << left) {
        auto enc = random_encoder(config(v, "conformer", true));
        Tensor x = normal({1, T, F});
        nn::EncoderCache cache = enc->make_cache(chunk, left, nn::CacheDtype::int8);
        std::vector<Tensor> outs;
        for (const nn::FrameWindow& w : nn::stream_windows(T, chunk)) {
          outs.push_back(enc->forward_chunk(narrow(x, 1, w.start, w.length), cache));
          BOOST_CHECK_EQUAL(cache.attention_bytes(),
                            enc->cache_bytes_formula(cache.history(), nn::CacheDtype::int8,
                                                     cache.history_chunks()));
        }
        // Smaller than float32 even here, where the tiny heads (d_k 4, latent 5) make the
        // 4-byte scales weigh (at d_k 64 int8 is under a third: docs/streaming.md).
        BOOST_CHECK_LT(cache.attention_bytes(), enc->cache_bytes_formula(cache.history()));
        const float err = max_abs_diff(concat(outs, 1), enc->forward_streaming(x, chunk, left));
        BOOST_TEST_MESSAGE(v.name << " left " << left << ": int8 vs float32 " << err);
        BOOST_CHECK_LE(err, 5e-3f);
      }
    }
  }
  auto linear = random_encoder(config(variants().back(), "conformer", true));
  check_error([&] { linear->make_cache(4, -1, nn::CacheDtype::int8); }, "int8 cache with linear");
}

BOOST_AUTO_TEST_CASE(batches_stream_like_single_utterances) {
  manual_seed(41);
  auto enc = random_encoder(config(variants()[1], "conformer", true));
  Tensor x = normal({2, 31, F});
  Tensor full = enc->forward(x, {31, 31}, 3, 1).out;
  Tensor batched = enc->forward_streaming(x, 3, 1);  // [2, T', d]
  BOOST_CHECK_LE(max_abs_diff(full, batched), 2e-5f);
  // Each utterance of the batch streams as it does alone.
  for (int64_t b = 0; b < 2; ++b) {
    Tensor alone = enc->forward_streaming(narrow(x, 0, b, 1), 3, 1);  // [1, T', d]
    BOOST_TEST_CONTEXT("utterance " << b)
    BOOST_CHECK_LE(max_abs_diff(narrow(batched, 0, b, 1), alone), 2e-5f);
  }
}

BOOST_AUTO_TEST_CASE(cache_bytes_follow_the_formula) {
  manual_seed(42);
  const int64_t T = 4 * 20 + 3, frames = 20, chunk = 4;
  for (const AttentionVariant& v : variants())
    for (const std::string block : {"conformer", "branchformer"}) {
      BOOST_TEST_CONTEXT(v.name << " " << block) {
        auto enc = random_encoder(config(v, block, true));
        nn::EncoderCache cache = enc->make_cache(chunk, -1);
        BOOST_CHECK_EQUAL(cache.attention_bytes(), 0);
        for (const nn::FrameWindow& w : nn::stream_windows(T, chunk))
          enc->forward_chunk(narrow(normal({1, T, F}), 1, w.start, w.length), cache);
        BOOST_CHECK_EQUAL(cache.offset, frames);
        BOOST_CHECK_EQUAL(cache.attention_bytes(), enc->cache_bytes_formula(frames));
        // Each depthwise conv keeps its last kernel-1 input frames.
        const int64_t channels = block == "conformer" ? d : cgmlp_dim / 2;
        BOOST_CHECK_EQUAL(cache.conv_bytes(), 2 * channels * (kernel - 1) * 4);
      }
    }
}

BOOST_AUTO_TEST_CASE(finite_left_context_keeps_left_chunks_times_chunk_frames) {
  manual_seed(43);
  const int64_t T = 4 * 22 + 3, chunk = 4, left = 2;  // 22 frames: 5 chunks of 4, one of 2
  for (const AttentionVariant& v : variants()) {
    if (v.type == "linear") continue;
    BOOST_TEST_CONTEXT(v.name) {
      auto enc = random_encoder(config(v, "conformer", true));
      nn::EncoderCache cache = enc->make_cache(chunk, left);
      Tensor x = normal({1, T, F});
      int64_t k = 0;
      for (const nn::FrameWindow& w : nn::stream_windows(T, chunk)) {
        enc->forward_chunk(narrow(x, 1, w.start, w.length), cache);
        const int64_t kept = std::min(cache.offset, left * chunk);
        BOOST_CHECK_EQUAL(cache.history(), kept);
        for (const nn::BlockCache& layer : cache.layers)
          BOOST_CHECK_EQUAL(layer.attention.frames(), kept);
        BOOST_CHECK_EQUAL(cache.attention_bytes(), enc->cache_bytes_formula(kept));
        ++k;
      }
      BOOST_CHECK_EQUAL(k, 6);
    }
  }
}

BOOST_AUTO_TEST_CASE(linear_attention_refuses_a_finite_left_context) {
  auto enc = random_encoder(config(variants().back(), "conformer", true));
  check_error([&] { enc->make_cache(4, 1); }, "left_chunks 1");
  nn::AttentionConfig a;
  a.type = "linear";
  a.d_model = d;
  a.num_heads = 2;
  nn::LinearAttention att(a);
  nn::AttentionCache cache;
  cache.max_frames = 8;
  check_error([&] { att.forward_chunk(normal({1, 3, d}), cache, {}); }, "8 frames");
}

BOOST_AUTO_TEST_CASE(streaming_refusals) {
  nn::EncoderConfig ave = config(variants()[0], "branchformer", true);
  ave.merge = "learned_ave";
  nn::Encoder pooled(ave);
  check_error([&] { pooled.make_cache(4, -1); }, "learned_ave");
  auto enc = random_encoder(config(variants()[0], "conformer", true));
  nn::EncoderCache cache = enc->make_cache(2, -1);
  check_error([&] { enc->forward_chunk(normal({1, 15, F}), cache); }, "more than chunk_size 2");
  check_error([&] { enc->forward_chunk(normal({1, 6, F}), cache); }, "W >= 7");
  check_error([&] { enc->make_cache(0, -1); }, "chunk_size 0");
}

BOOST_AUTO_TEST_CASE(non_causal_models_stream_without_look_ahead) {
  // A centred convolution gets zeros for the frames beyond the chunk: the stream runs and
  // never looks ahead, but differs from the full pass (docs/streaming.md).
  manual_seed(44);
  nn::EncoderConfig c = config(variants()[0], "conformer", true);
  c.causal = false;
  auto enc = random_encoder(c);
  const int64_t T = 51;
  Tensor x = normal({1, T, F});
  Tensor streamed = enc->forward_streaming(x, 4, -1);
  BOOST_CHECK(streamed.shape() == (Shape{1, 12, d}));
  BOOST_CHECK_GT(max_abs_diff(streamed, enc->forward(x, {T}, 4, -1).out), 1e-4f);
  // Output frames 0..3 see input frames 0..22 only.
  Tensor x2 = perturb_frames(x, [](int64_t, int64_t t) { return t >= 23; });
  Tensor first = narrow(streamed, 1, 0, 4);
  BOOST_CHECK_EQUAL(max_abs_diff(first, narrow(enc->forward_streaming(x2, 4, -1), 1, 0, 4)), 0.0f);
}
