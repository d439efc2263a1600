// Sample-rate conversion with libsoxr (high quality, linear phase, one thread per call).
#include <soxr.h>

#include <cmath>
#include <sstream>

#include "asr/data/audio.h"

namespace asr {

std::vector<float> resample(const std::vector<float>& x, double from_rate, double to_rate) {
  std::ostringstream what;
  what << "resample from " << from_rate << " Hz to " << to_rate << " Hz: ";
  if (!(from_rate > 0) || !(to_rate > 0)) throw AudioError(what.str() + "rates must be positive");
  if (from_rate == to_rate || x.empty()) return x;
  std::vector<float> y(static_cast<size_t>(std::ceil(x.size() * to_rate / from_rate)) + 1);
  soxr_io_spec_t io = soxr_io_spec(SOXR_FLOAT32_I, SOXR_FLOAT32_I);
  soxr_quality_spec_t quality = soxr_quality_spec(SOXR_HQ, 0);
  soxr_runtime_spec_t runtime = soxr_runtime_spec(1);
  size_t done = 0;
  soxr_error_t err = soxr_oneshot(from_rate, to_rate, 1, x.data(), x.size(), nullptr, y.data(),
                                  y.size(), &done, &io, &quality, &runtime);
  if (err) throw AudioError(what.str() + err);
  y.resize(done);
  return y;
}

std::vector<float> change_speed(const std::vector<float>& x, double factor) {
  if (!(factor > 0)) {
    std::ostringstream os;
    os << "speed perturbation: factor " << factor << " must be positive";
    throw AudioError(os.str());
  }
  if (factor == 1.0) return x;
  return resample(x, factor * kSampleRate, kSampleRate);
}

}  // namespace asr
