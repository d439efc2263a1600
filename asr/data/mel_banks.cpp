// Frame sizes and the triangular mel filterbank, as Kaldi (and torchaudio's kaldi.fbank).
#include <cmath>

#include "asr/data/fbank.h"

namespace asr {
namespace {

double mel_scale(double hz) { return 1127.0 * std::log(1.0 + hz / 700.0); }

}  // namespace

FrameGeometry frame_geometry(const FbankOptions& opt) {
  AG_CHECK(opt.sample_rate > 0, "fbank: sample_rate ", opt.sample_rate, " must be positive");
  FrameGeometry g;
  g.window_size = static_cast<int>(opt.sample_rate * double(opt.frame_length_ms) * 0.001);
  g.window_shift = static_cast<int>(opt.sample_rate * double(opt.frame_shift_ms) * 0.001);
  AG_CHECK(g.window_size >= 2, "fbank: frame_length_ms ", opt.frame_length_ms, " gives ",
           g.window_size, " samples per frame (need at least 2)");
  AG_CHECK(g.window_shift >= 1, "fbank: frame_shift_ms ", opt.frame_shift_ms,
           " gives no samples between frames");
  g.fft_size = 1;
  while (g.fft_size < g.window_size) g.fft_size *= 2;
  AG_CHECK(opt.preemphasis >= 0 && opt.preemphasis <= 1, "fbank: preemphasis ", opt.preemphasis,
           " must be in [0, 1]");
  AG_CHECK(opt.dither >= 0, "fbank: dither ", opt.dither, " must not be negative");
  return g;
}

ag::Tensor mel_banks(const FbankOptions& opt) {
  FrameGeometry g = frame_geometry(opt);
  double nyquist = 0.5 * opt.sample_rate;
  double low = opt.low_freq, high = opt.high_freq <= 0 ? opt.high_freq + nyquist : opt.high_freq;
  AG_CHECK(opt.num_mel_bins > 3, "fbank: num_mel_bins ", opt.num_mel_bins, " must be above 3");
  AG_CHECK(low >= 0 && low < nyquist && high > 0 && high <= nyquist && low < high,
           "fbank: low_freq ", opt.low_freq, " and high_freq ", opt.high_freq,
           " do not give a band inside [0, ", nyquist, "] Hz");
  int bins = opt.num_mel_bins, fft_bins = g.fft_size / 2;
  double mel_low = mel_scale(low), mel_high = mel_scale(high);
  double delta = (mel_high - mel_low) / (bins + 1);
  double bin_hz = double(opt.sample_rate) / g.fft_size;
  ag::Tensor banks = ag::zeros({bins, fft_bins + 1});  // [bins, fft_size / 2 + 1]
  float* w = banks.data();
  for (int b = 0; b < bins; ++b) {
    double left = mel_low + b * delta, center = left + delta, right = center + delta;
    for (int k = 0; k < fft_bins; ++k) {
      double mel = mel_scale(bin_hz * k);
      double up = (mel - left) / (center - left), down = (right - mel) / (right - center);
      w[b * (fft_bins + 1) + k] = static_cast<float>(std::max(0.0, std::min(up, down)));
    }
  }
  return banks;
}

}  // namespace asr
