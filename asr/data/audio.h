// Audio input: every format libsndfile reads (FLAC, WAV, NIST SPHERE, MP3, Ogg/Vorbis/Opus,
// AIFF, ...), as float32 mono in [-1, 1] at the model rate (16 kHz). Other rates are resampled
// with libsoxr (high quality).
#pragma once
#include <string>
#include <vector>

#include "autograd/error.h"

namespace asr {

inline constexpr int kSampleRate = 16000;

// A segment may end up to this many seconds past the end of its file; it is cut at the end
// (as Kaldi's extract-segments --max-overshoot). Further out is an error.
inline constexpr double kMaxSegmentOvershoot = 0.5;

// Bad or unreadable audio; the message names the file.
struct AudioError : ag::Error {
  using ag::Error::Error;
};

// Reads [start, end) seconds of `path` (end < 0: to the end), mixes channels to mono and
// resamples to `rate`. Only the segment is decoded (the file is seeked to `start`), except in
// MP3, whose seeks libsndfile does not make sample-accurate: it is decoded from its start.
// Throws AudioError for a missing, unreadable, corrupt or empty file, or a segment outside
// the file.
std::vector<float> read_audio(const std::string& path, int rate = kSampleRate, double start = 0,
                              double end = -1);

// Duration in seconds from the header alone (no decoding): libsndfile's frame count. MP3: exact
// where a Xing/Info tag gives the length (LAME, ffmpeg and libsndfile write one); an MP3
// without one is refused (libsndfile would guess its length and stop decoding there).
// Throws AudioError as read_audio.
double audio_duration(const std::string& path);

// Whether a regular file is at path (what a corpus or manifest names as audio); false, never an
// exception, for a name the system refuses (too long, ...): such audio is missing. Found by
// fuzz_kaldi_dir (a wav.scp path longer than NAME_MAX ended asr-prepare with std::terminate).
bool audio_file_present(const std::string& path);

// Writes interleaved `samples` ([frames * channels], in [-1, 1]) as 16-bit PCM (round(32768 x),
// clipped; read_audio gives back exactly samples that are multiples of 1/32768), atomically
// (temp file, then rename). The format comes from the extension: .wav, .flac, .sph (NIST) or
// .mp3 (MPEG layer III, lossy: samples do not come back exactly).
void write_audio(const std::string& path, const std::vector<float>& samples, int rate,
                 int channels = 1);

// Whether `ext` (".flac", case-insensitive) names a format libsndfile reads.
bool is_audio_extension(const std::string& ext);
// `ext` in lower case (".FLAC" -> ".flac"), as extensions are compared.
std::string lower_extension(std::string ext);

// x sampled at from_rate -> the same signal at to_rate (about x.size() * to_rate / from_rate
// samples). Throws AudioError for a non-positive rate.
std::vector<float> resample(const std::vector<float>& x, double from_rate, double to_rate);

// Speed perturbation as `sox speed`: factor 1.1 plays 10% faster (shorter, higher pitch):
// x is taken as sampled at factor * rate and resampled to rate.
std::vector<float> change_speed(const std::vector<float>& x, double factor);

}  // namespace asr
