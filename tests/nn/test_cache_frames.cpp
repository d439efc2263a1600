// CacheFrames: float32 frames come back exactly; int8 frames come back within half a scale
// step of each element's group (keys per channel over their chunk, values and latents per
// token: KIVI), through appends and trimming to a window; bytes count codes and scales.
#include <boost/test/unit_test.hpp>

#include <cmath>

#include "autograd/ops.h"
#include "common/gradcheck.h"
#include "nn/cache_frames.h"

using namespace ag;
using testing::check_error;
using testing::max_abs_diff;
using Scales = nn::CacheFrames::Scales;

namespace {

// Largest |x| of matrix m's row r (per token) or of its column k over rows [r0, r1) (per channel),
// x [M, T, K] flattened.
float max_abs_row(const std::vector<float>& x, int64_t T, int64_t K, int64_t m, int64_t r) {
  float a = 0;
  for (int64_t k = 0; k < K; ++k) a = std::max(a, std::fabs(x[(m * T + r) * K + k]));
  return a;
}
float max_abs_column(const std::vector<float>& x, int64_t T, int64_t K, int64_t m, int64_t k) {
  float a = 0;
  for (int64_t r = 0; r < T; ++r) a = std::max(a, std::fabs(x[(m * T + r) * K + k]));
  return a;
}

}  // namespace

BOOST_AUTO_TEST_CASE(float32_frames_come_back_exactly) {
  manual_seed(80);
  nn::CacheFrames c;
  Tensor a = normal({2, 3, 4}), b = normal({2, 2, 4});
  c.append(a);
  c.append(b);
  c.keep_last(4);
  BOOST_CHECK_EQUAL(max_abs_diff(c.to_tensor(), narrow(concat({a, b}, 1), 1, 1, 4)), 0.0f);
  BOOST_CHECK_EQUAL(c.bytes(), 2 * 4 * 4 * 4);
}

BOOST_AUTO_TEST_CASE(int8_round_trip_is_within_half_a_step) {
  manual_seed(81);
  const int64_t M = 3, K = 5;
  for (Scales scales : {Scales::per_token, Scales::per_channel})
    for (int64_t window : {-1, 6}) {
      BOOST_TEST_CONTEXT((scales == Scales::per_token ? "per token" : "per channel")
                         << ", max_frames " << window) {
        nn::CacheFrames c;
        c.set_int8(scales);
        std::vector<Tensor> chunks;
        for (int64_t T : {4, 1, 3, 4, 2}) {
          // Channels of very different ranges, and an all-zero frame.
          Tensor x = mul(normal({M, T, K}), from_vector({0.01f, 1.0f, 30.0f, 0.5f, 2.0f}, {K}));
          if (T == 3) x = concat({zeros({M, 1, K}), narrow(x, 1, 1, 2)}, 1);
          chunks.push_back(x);
          c.append(x);
          c.keep_last(window);
        }
        // Each held frame against its chunk's bound: s / 2, s = max |group| / 127.
        Tensor got = c.to_tensor();
        const int64_t S = c.frames();
        const std::vector<float> g = got.to_vector();
        int64_t held = 0;  // frames of `got` checked, from the newest back
        int64_t scale_count = 0;
        for (auto it = chunks.rbegin(); it != chunks.rend() && held < S; ++it) {
          const int64_t T = it->size(1), take = std::min(T, S - held);
          const std::vector<float> x = it->to_vector();
          scale_count += scales == Scales::per_token ? M * take : M * K;
          for (int64_t m = 0; m < M; ++m)
            for (int64_t r = T - take; r < T; ++r)
              for (int64_t k = 0; k < K; ++k) {
                const float group = scales == Scales::per_token ? max_abs_row(x, T, K, m, r)
                                                                : max_abs_column(x, T, K, m, k);
                const float step = group > 0 ? group / 127 : 1;
                const int64_t row = S - held - take + (r - (T - take));
                const float err = std::fabs(g[(m * S + row) * K + k] - x[(m * T + r) * K + k]);
                BOOST_CHECK_LE(err, step / 2 * (1 + 1e-5f));
              }
          held += take;
        }
        // Codes one byte each, scales four: per token one per frame, per channel K per chunk.
        BOOST_CHECK_EQUAL(c.bytes(), M * S * K + 4 * scale_count);
      }
    }
}

BOOST_AUTO_TEST_CASE(int8_refusals) {
  nn::CacheFrames c;
  c.set_int8(Scales::per_token);
  check_error([&] { c.append(zeros({2, 3}, DType::u8)); }, "must be float32");
  c.append(zeros({2, 3}));
  check_error([&] { c.set_int8(Scales::per_channel); }, "after frames were appended");
  // No int8 code stands for NaN or an infinity: refused, in either grouping.
  for (Scales grouping : {Scales::per_token, Scales::per_channel})
    for (float bad : {NAN, INFINITY}) {
      nn::CacheFrames q;
      q.set_int8(grouping);
      check_error([&] { q.append(from_vector({1, bad, 3, 4, 5, 6}, {1, 2, 3})); },
                  "int8 cache: cannot quantize the non-finite value");
    }
}
