// Log-mel filterbank features: each frame is copied (x 32768, optional dither), has its DC
// offset removed, is pre-emphasized, windowed, zero-padded and put through a real FFT (FFTW);
// blocks of 8 frames then go through the sparse mel filters and the log, one per vector lane.
#include "asr/data/fbank.h"

#include <fftw3.h>

#include <bit>
#include <cfloat>
#include <cmath>
#include <cstdint>
#include <memory>
#include <mutex>
#include <random>

namespace asr {
namespace {

// FFTW's planner is not thread-safe; plan creation and destruction take this lock.
std::mutex& fftw_planner_mutex() {
  static std::mutex m;
  return m;
}

struct FftwFree {
  void operator()(void* p) const { fftwf_free(p); }
};
template <class T>
using FftwBuffer = std::unique_ptr<T[], FftwFree>;

// FFTW-aligned memory (the plan runs on per-call buffers of the alignment it was made with).
template <class T>
FftwBuffer<T> fftw_buffer(size_t n) {
  T* p = static_cast<T*>(fftwf_malloc(n * sizeof(T)));
  AG_CHECK(p, "fbank: cannot allocate ", n * sizeof(T), " bytes for the FFT");
  return FftwBuffer<T>(p);
}

// Kaldi's povey window: a Hann window raised to 0.85 (zero at both ends). [n]
std::vector<float> povey_window(int n) {
  std::vector<float> w(n);
  for (int j = 0; j < n; ++j)
    w[j] = static_cast<float>(std::pow(0.5 - 0.5 * std::cos(2 * M_PI * j / (n - 1)), 0.85));
  return w;
}

// Standard normal samples from a seeded generator (Box-Muller, in pairs), for dithering.
class Gaussian {
 public:
  explicit Gaussian(uint64_t seed) : rng_(seed) {}
  // out[0, n) = independent N(0, 1) samples times `scale`.
  void fill(float* out, int n, float scale) {
    for (int i = 0; i < n; i += 2) {
      uint64_t bits = rng_();
      // Two 24-bit uniforms: u1 in (0, 1] (its log is finite), u2 in [0, 1).
      float u1 = (static_cast<float>(bits >> 40) + 1.0f) * 0x1.0p-24f;
      float u2 = static_cast<float>((bits >> 8) & 0xFFFFFF) * 0x1.0p-24f;
      float r = scale * std::sqrt(-2.0f * std::log(u1)), a = 2.0f * static_cast<float>(M_PI) * u2;
      out[i] = r * std::cos(a);
      if (i + 1 < n) out[i + 1] = r * std::sin(a);
    }
  }

 private:
  std::mt19937_64 rng_;
};

// Natural log that GCC vectorizes (no libm call), within about an ulp of std::log for
// positive normal floats; NaN and infinity pass through. x = 2^e m with m in
// [sqrt(1/2), sqrt(2)); log m = 2 atanh(s), s = (m - 1) / (m + 1), |s| < 0.172, whose odd
// series stops after s^9 (the rest is below 1e-9).
inline float log_positive(float x) {
  uint32_t bits = std::bit_cast<uint32_t>(x);
  int e = static_cast<int>(bits >> 23) - 127;
  float m = std::bit_cast<float>((bits & 0x007FFFFFu) | 0x3F800000u);  // [1, 2)
  bool high = m > 1.41421356f;
  m = high ? 0.5f * m : m;
  e += high;
  float s = (m - 1.0f) / (m + 1.0f), s2 = s * s;
  float series = 1.0f + s2 * (1.0f / 3 + s2 * (1.0f / 5 + s2 * (1.0f / 7 + s2 * (1.0f / 9))));
  float y = static_cast<float>(e) * 0.693147182f + 2.0f * s * series;
  return x <= FLT_MAX ? y : x;
}

}  // namespace

struct Fbank::Impl {
  FrameGeometry g;
  std::vector<float> window;  // [window_size]
  // Mel filter b covers FFT bins [first[b], first[b] + width[b]) with weights at offset[b].
  std::vector<int> first, width, offset;
  std::vector<float> weights;
  fftwf_plan plan = nullptr;  // real -> complex, fft_size points

  // Frames go through the mel filters and the log kBlock at a time, one per vector lane.
  static constexpr int kBlock = 8;
  using Lanes = float __attribute__((vector_size(kBlock * sizeof(float)), aligned(sizeof(float))));

  // Per-call work space.
  struct Buffers {
    FftwBuffer<float> frame, noise, fft_in;  // [window_size], [window_size], [fft_size]
    FftwBuffer<fftwf_complex> spectrum;      // [fft_size / 2 + 1]
    FftwBuffer<float> power;                 // [fft_size / 2 + 1, kBlock]: frame in the block last
    FftwBuffer<float> mel;                   // [num_mel_bins, kBlock]
  };
  Buffers buffers() const {
    int half = g.fft_size / 2 + 1, bins = static_cast<int>(first.size());
    Buffers b{fftw_buffer<float>(g.window_size), fftw_buffer<float>(g.window_size),
              fftw_buffer<float>(g.fft_size),    fftw_buffer<fftwf_complex>(half),
              fftw_buffer<float>(half * kBlock), fftw_buffer<float>(bins * kBlock)};
    std::fill(b.fft_in.get() + g.window_size, b.fft_in.get() + g.fft_size, 0.0f);
    std::fill(b.power.get(), b.power.get() + half * kBlock, 0.0f);
    return b;
  }

  // frame = 32768 * samples[start, start + window_size), mirrored at the ends of the signal.
  void load_frame(const std::vector<float>& samples, int64_t start, float* frame) const {
    const int64_t n = static_cast<int64_t>(samples.size()), ws = g.window_size;
    if (start >= 0 && start + ws <= n) {
      const float* x = samples.data() + start;
#pragma omp simd
      for (int64_t j = 0; j < ws; ++j) frame[j] = x[j] * 32768.0f;
      return;
    }
    for (int64_t j = 0; j < ws; ++j) {
      int64_t s = start + j;
      s = s < 0 ? -s - 1 : (s >= n ? 2 * n - 1 - s : s);
      frame[j] = samples[s] * 32768.0f;
    }
  }

  void add_dither(Gaussian& gauss, float dither, const Buffers& b) const {
    float *frame = b.frame.get(), *noise = b.noise.get();
    gauss.fill(noise, g.window_size, dither);
#pragma omp simd
    for (int j = 0; j < g.window_size; ++j) frame[j] += noise[j];
  }

  // frame -> fft_in[0, window_size): DC offset removed, pre-emphasized (the first sample
  // against itself), windowed. The zero padding after it is never written.
  void prepare_frame(const FbankOptions& opt, const Buffers& b) const {
    const int ws = g.window_size;
    float *frame = b.frame.get(), *fft_in = b.fft_in.get();
    if (opt.remove_dc_offset) {
      float sum = 0;
#pragma omp simd reduction(+ : sum)
      for (int j = 0; j < ws; ++j) sum += frame[j];
      float mean = sum / static_cast<float>(ws);
#pragma omp simd
      for (int j = 0; j < ws; ++j) frame[j] -= mean;
    }
    const float pre = opt.preemphasis;
    fft_in[0] = (frame[0] - pre * frame[0]) * window[0];
#pragma omp simd
    for (int j = 1; j < ws; ++j) fft_in[j] = (frame[j] - pre * frame[j - 1]) * window[j];
  }

  // spectrum -> power[:, lane] = re^2 + im^2.
  void power_spectrum(const Buffers& b, int lane) const {
    const int half = g.fft_size / 2 + 1;
    const float* c = reinterpret_cast<const float*>(b.spectrum.get());
    float* power = b.power.get() + lane;
    for (int k = 0; k < half; ++k)
      power[k * kBlock] = c[2 * k] * c[2 * k] + c[2 * k + 1] * c[2 * k + 1];
  }

  // power [half, kBlock] -> out rows [lanes, num_mel_bins] = log(max(mel energy, FLT_EPSILON)).
  void log_mel(const Buffers& b, int lanes, float* out) const {
    const int bins = static_cast<int>(first.size());
    const Lanes* power = reinterpret_cast<const Lanes*>(b.power.get());
    Lanes* mel = reinterpret_cast<Lanes*>(b.mel.get());
    for (int m = 0; m < bins; ++m) {
      Lanes e = {};
      const float* w = weights.data() + offset[m];
      const Lanes* p = power + first[m];
      for (int k = 0; k < width[m]; ++k) e += w[k] * p[k];
      mel[m] = e;
    }
    float* flat = b.mel.get();
#pragma omp simd
    for (int i = 0; i < bins * kBlock; ++i)
      flat[i] = log_positive(flat[i] > FLT_EPSILON ? flat[i] : FLT_EPSILON);
    for (int f = 0; f < lanes; ++f)
      for (int m = 0; m < bins; ++m) out[f * bins + m] = flat[m * kBlock + f];
  }

  void sparse_banks(const ag::Tensor& dense) {
    int bins = static_cast<int>(dense.size(0)), cols = static_cast<int>(dense.size(1));
    const float* w = dense.data();
    for (int b = 0; b < bins; ++b) {
      const float* row = w + static_cast<int64_t>(b) * cols;
      int lo = 0, hi = cols;
      while (lo < cols && row[lo] == 0) ++lo;
      while (hi > lo && row[hi - 1] == 0) --hi;
      first.push_back(lo);
      width.push_back(hi - lo);
      offset.push_back(static_cast<int>(weights.size()));
      weights.insert(weights.end(), row + lo, row + hi);
    }
  }
};

Fbank::Fbank(const FbankOptions& opt) : opt_(opt), impl_(new Impl) {
  std::unique_ptr<Impl> impl(impl_);
  impl->g = frame_geometry(opt);
  impl->window = povey_window(impl->g.window_size);
  impl->sparse_banks(mel_banks(opt));
  Impl::Buffers b = impl->buffers();
  {
    std::lock_guard<std::mutex> lock(fftw_planner_mutex());
    impl->plan =
        fftwf_plan_dft_r2c_1d(impl->g.fft_size, b.fft_in.get(), b.spectrum.get(), FFTW_ESTIMATE);
  }
  AG_CHECK(impl->plan, "fbank: FFTW could not plan a ", impl->g.fft_size, "-point real FFT");
  impl.release();
}

Fbank::~Fbank() {
  {
    std::lock_guard<std::mutex> lock(fftw_planner_mutex());
    fftwf_destroy_plan(impl_->plan);
  }
  delete impl_;
}

int64_t Fbank::num_frames(int64_t n) const {
  const FrameGeometry& g = impl_->g;
  if (!opt_.snip_edges) return (n + g.window_shift / 2) / g.window_shift;
  return n < g.window_size ? 0 : 1 + (n - g.window_size) / g.window_shift;
}

ag::Tensor Fbank::compute(const std::vector<float>& samples, uint64_t dither_seed) const {
  const Impl& im = *impl_;
  const int64_t n = static_cast<int64_t>(samples.size());
  AG_CHECK(n >= im.g.window_size, "fbank: ", n, " samples are fewer than one frame (",
           im.g.window_size, " samples, ", opt_.frame_length_ms, " ms)");
  const int64_t frames = num_frames(n);
  ag::Tensor out = ag::empty({frames, opt_.num_mel_bins});  // [frames, num_mel_bins]
  Impl::Buffers b = im.buffers();
  Gaussian gauss(dither_seed);
  for (int64_t t0 = 0; t0 < frames; t0 += Impl::kBlock) {
    const int lanes = static_cast<int>(std::min<int64_t>(Impl::kBlock, frames - t0));
    for (int f = 0; f < lanes; ++f) {
      const int64_t t = t0 + f, shift = im.g.window_shift;
      int64_t start = opt_.snip_edges ? t * shift : t * shift + shift / 2 - im.g.window_size / 2;
      im.load_frame(samples, start, b.frame.get());
      if (opt_.dither > 0) im.add_dither(gauss, opt_.dither, b);
      im.prepare_frame(opt_, b);
      fftwf_execute_dft_r2c(im.plan, b.fft_in.get(), b.spectrum.get());
      im.power_spectrum(b, f);
    }
    im.log_mel(b, lanes, out.data() + t0 * opt_.num_mel_bins);
  }
  return out;
}

}  // namespace asr
