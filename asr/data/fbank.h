// Kaldi-compatible log-mel filterbank features (as torchaudio.compliance.kaldi.fbank):
// 25 ms povey window, 10 ms shift, DC removal, pre-emphasis 0.97, power spectrum of a
// 512-point FFT, mel bins from 20 Hz to Nyquist, log with an epsilon floor.
#pragma once
#include <cstdint>
#include <vector>

#include "autograd/tensor.h"

namespace asr {

struct FbankOptions {
  int num_mel_bins = 80;
  int sample_rate = 16000;
  float frame_length_ms = 25.0f;
  float frame_shift_ms = 10.0f;
  float dither = 0.0f;          // Kaldi's dither amount (0: off, as at evaluation)
  float preemphasis = 0.97f;
  bool remove_dc_offset = true;
  float low_freq = 20.0f;
  float high_freq = 0.0f;       // <= 0: offset from Nyquist
  bool snip_edges = true;
};

// Sizes that follow from the options (as Kaldi computes them).
struct FrameGeometry {
  int window_size;   // samples per frame (frame_length_ms)
  int window_shift;  // samples between frame starts (frame_shift_ms)
  int fft_size;      // window_size rounded up to a power of two
};
// Throws ag::Error naming the option that is out of range.
FrameGeometry frame_geometry(const FbankOptions& opt);

// The triangular mel filters as a dense matrix [num_mel_bins, fft_size / 2 + 1] over the
// FFT bins (the Nyquist bin's column is zero, as in Kaldi).
ag::Tensor mel_banks(const FbankOptions& opt);

// Thread-safe: compute() may run on several threads at once.
class Fbank {
 public:
  explicit Fbank(const FbankOptions& opt = FbankOptions());
  Fbank(const Fbank&) = delete;
  Fbank& operator=(const Fbank&) = delete;
  // samples in [-1, 1] (scaled by 32768 inside, as Kaldi reads int16) -> [frames, num_mel_bins].
  // dither_seed picks the dither noise when opt.dither > 0. Throws ag::Error when there
  // are fewer samples than one frame.
  ag::Tensor compute(const std::vector<float>& samples, uint64_t dither_seed = 0) const;
  int64_t num_frames(int64_t num_samples) const;
  const FbankOptions& options() const { return opt_; }
  ~Fbank();

 private:
  FbankOptions opt_;
  struct Impl;
  Impl* impl_;
};

}  // namespace asr
