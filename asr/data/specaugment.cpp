// SpecAugment on one utterance [T, F]: time warp, then frequency masks, then time masks (ESPnet's
// order). Widths and starts are drawn inclusive: width in [0, max], start in [0, size - width].
#include "asr/data/specaugment.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace asr {

namespace {

int64_t uniform(std::mt19937_64& rng, int64_t lo, int64_t hi) {
  return std::uniform_int_distribution<int64_t>(lo, hi)(rng);
}

// Time warp (Park et al.): the frame at `center`, drawn from (window, T - 1 - window), moves to
// `center + shift`, shift uniform in [-window, window]; the time axis is stretched linearly on
// each side with the first and last frames fixed, and frames are re-interpolated linearly
// between the two nearest source frames. Utterances shorter than 2 * window + 3 frames are left
// alone. (ESPnet resizes the two sides with bicubic interpolation instead.)
void time_warp(const float* src, float* dst, int64_t t, int64_t f, int64_t window,
               std::mt19937_64& rng) {
  if (window <= 0 || t < 2 * window + 3) return;
  int64_t center = uniform(rng, window + 1, t - 2 - window);
  int64_t warped = center + uniform(rng, -window, window);
  for (int64_t u = 0; u < t; ++u) {
    // source time of output frame u
    double s = u <= warped ? static_cast<double>(u) * center / warped
                           : center + static_cast<double>(u - warped) * (t - 1 - center) /
                                          (t - 1 - warped);
    auto lo = std::min(static_cast<int64_t>(s), t - 1);
    int64_t hi = std::min(lo + 1, t - 1);
    auto w = static_cast<float>(s - static_cast<double>(lo));
    for (int64_t j = 0; j < f; ++j)
      dst[u * f + j] = (1 - w) * src[lo * f + j] + w * src[hi * f + j];
  }
}

// Zeroes `count` bands of bins, each across every frame.
void mask_freq(float* x, int64_t t, int64_t f, int64_t count, int64_t max_width,
               std::mt19937_64& rng) {
  for (int64_t m = 0; m < count; ++m) {
    int64_t width = uniform(rng, 0, std::min(max_width, f));
    int64_t start = uniform(rng, 0, f - width);
    for (int64_t i = 0; i < t; ++i) std::fill_n(x + i * f + start, width, 0.0f);
  }
}

// Zeroes `count` runs of whole frames.
void mask_time(float* x, int64_t t, int64_t f, int64_t count, int64_t max_width,
               std::mt19937_64& rng) {
  for (int64_t m = 0; m < count; ++m) {
    int64_t width = uniform(rng, 0, std::min(max_width, t));
    int64_t start = uniform(rng, 0, t - width);
    std::fill_n(x + start * f, width * f, 0.0f);
  }
}

}  // namespace

ag::Tensor spec_augment(const ag::Tensor& feats, const SpecAugmentConfig& c, std::mt19937_64& rng) {
  AG_CHECK(feats.dim() == 2 && feats.dtype() == ag::DType::f32 && feats.device() == ag::Device::cpu,
           "spec_augment: features must be a float32 CPU tensor [T, F], got ",
           ag::shape_str(feats.shape()));
  AG_CHECK(c.num_freq_masks >= 0 && c.freq_mask_width >= 0 && c.num_time_masks >= 0 &&
               c.time_warp >= 0 && c.time_mask_ratio >= 0 && c.time_mask_ratio <= 1,
           "spec_augment: negative count or width, or time_mask_ratio outside [0, 1]");
  int64_t t = feats.size(0), f = feats.size(1);
  ag::Tensor out = ag::empty(feats.shape());
  std::memcpy(out.data(), feats.data(), sizeof(float) * feats.numel());
  if (!c.enabled) return out;
  time_warp(feats.data(), out.data(), t, f, c.time_warp, rng);
  mask_freq(out.data(), t, f, c.num_freq_masks, c.freq_mask_width, rng);
  // floor(ratio * T) as ESPnet computes it in double; the epsilon undoes float rounding of the
  // ratio (0.7f is 0.69999999).
  double max_time = std::floor(c.time_mask_ratio * static_cast<double>(t) + 1e-6);
  mask_time(out.data(), t, f, c.num_time_masks, static_cast<int64_t>(max_time), rng);
  return out;
}

}  // namespace asr
