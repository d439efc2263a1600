// Audio input: FLAC, WAV and NIST SPHERE through libsndfile, as float32 mono in [-1, 1] at
// the model rate (16 kHz). Other rates are resampled with libsoxr (high quality).
#pragma once
#include <string>
#include <vector>

#include "autograd/error.h"

namespace asr {

inline constexpr int kSampleRate = 16000;

// Bad or unreadable audio; the message names the file.
struct AudioError : ag::Error {
  using ag::Error::Error;
};

// Reads [start, end) seconds of `path` (end < 0: to the end), mixes channels to mono and
// resamples to `rate`. Throws AudioError for a missing, unreadable, corrupt or empty file,
// or a segment outside the file.
std::vector<float> read_audio(const std::string& path, int rate = kSampleRate, double start = 0,
                              double end = -1);

// Duration in seconds from the header alone (no decoding).
double audio_duration(const std::string& path);

// x sampled at from_rate -> the same signal at to_rate.
std::vector<float> resample(const std::vector<float>& x, double from_rate, double to_rate);

// Speed perturbation as `sox speed`: factor 1.1 plays 10% faster (shorter, higher pitch).
std::vector<float> change_speed(const std::vector<float>& x, double factor);

}  // namespace asr
