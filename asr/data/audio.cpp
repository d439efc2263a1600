// Reading and writing audio files with libsndfile.
#include "asr/data/audio.h"

#include <sndfile.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <set>
#include <sstream>

#include "asr/data/audio_header.h"

namespace asr {
namespace {

template <class... Args>
[[noreturn]] void fail(const std::string& path, const Args&... what) {
  std::ostringstream os;
  os << path << ": ";
  (os << ... << what);
  throw AudioError(os.str());
}

// An open libsndfile handle; closed (and the close checked) by close() or the destructor.
class SoundFile {
 public:
  SoundFile(const std::string& path, int mode, SF_INFO info = {}) : path_(path), info_(info) {
    file_ = sf_open(path.c_str(), mode, &info_);
    if (!file_) fail(path, "cannot open as audio (", sf_strerror(nullptr), ")");
  }
  ~SoundFile() {
    if (file_) sf_close(file_);  // only on an error path, which is already being reported
  }
  SoundFile(const SoundFile&) = delete;
  SoundFile& operator=(const SoundFile&) = delete;

  SNDFILE* get() const { return file_; }
  const SF_INFO& info() const { return info_; }
  void close() {
    int rc = sf_close(file_);
    file_ = nullptr;
    if (rc != 0) fail(path_, "cannot close (", sf_error_number(rc), ")");
  }

 private:
  std::string path_;
  SF_INFO info_;
  SNDFILE* file_ = nullptr;
};

// An audio file opened for reading whose header describes some audio.
class InputFile : public SoundFile {
 public:
  explicit InputFile(const std::string& path) : SoundFile(existing(path), SFM_READ) {
    if (info().samplerate <= 0 || info().channels <= 0)
      fail(path, "bad header (", info().samplerate, " Hz, ", info().channels, " channels)");
    if (info().frames <= 0) fail(path, "has no samples");
    int64_t declared = declared_frames(path);
    if (declared > info().frames && is_mpeg())
      fail(path, "libsndfile would decode ", info().frames,
           " samples, its MPEG frames hold at least ", declared,
           " (an MP3 without a Xing/Info tag, whose length libsndfile estimates from its first "
           "frame; re-encode it)");
    if (declared > info().frames)
      fail(path, "truncated: the header declares ", declared, " samples, the file holds ",
           info().frames);
  }

  bool is_mpeg() const { return (info().format & SF_FORMAT_TYPEMASK) == SF_FORMAT_MPEG; }

 private:
  static const std::string& existing(const std::string& path) {
    std::error_code ec;
    if (!std::filesystem::exists(path, ec)) fail(path, "no such audio file");
    if (std::filesystem::is_directory(path, ec)) fail(path, "is a directory, not an audio file");
    return path;
  }
};

// [frames * channels] interleaved -> [frames] mean over channels.
std::vector<float> mix_to_mono(const std::vector<float>& x, int channels) {
  if (channels == 1) return x;
  std::vector<float> mono(x.size() / channels);
  float scale = 1.0f / static_cast<float>(channels);
  for (size_t i = 0; i < mono.size(); ++i) {
    float s = 0;
    for (int c = 0; c < channels; ++c) s += x[i * channels + c];
    mono[i] = s * scale;
  }
  return mono;
}

// The file's frames [first, last) for the segment [start, end) seconds (end < 0: to the end).
std::pair<sf_count_t, sf_count_t> segment_frames(const std::string& path, const SF_INFO& info,
                                                 double start, double end) {
  double duration = static_cast<double>(info.frames) / info.samplerate;
  auto where = [&] {
    std::ostringstream os;
    os << "segment [" << start << ", " << end << ") s";
    return os.str();
  };
  if (!(start >= 0)) fail(path, where(), " starts before 0");
  if (end >= 0 && !(end > start)) fail(path, where(), " is empty");
  if (start >= duration)
    fail(path, where(), " starts at or after the end of the file (", duration, " s)");
  if (end > duration + kMaxSegmentOvershoot)
    fail(path, where(), " ends after the end of the file (", duration, " s)");
  sf_count_t first = std::llround(start * info.samplerate);
  sf_count_t last = end < 0
                        ? info.frames
                        : std::min<sf_count_t>(std::llround(end * info.samplerate), info.frames);
  if (first >= last) fail(path, where(), " holds no samples of the file (", duration, " s)");
  return {first, last};
}

int format_for(const std::string& path) {
  std::string ext = std::filesystem::path(path).extension().string();
  if (ext == ".wav") return SF_FORMAT_WAV | SF_FORMAT_PCM_16;
  if (ext == ".flac") return SF_FORMAT_FLAC | SF_FORMAT_PCM_16;
  if (ext == ".sph") return SF_FORMAT_NIST | SF_FORMAT_PCM_16;
  if (ext == ".mp3") return SF_FORMAT_MPEG | SF_FORMAT_MPEG_LAYER_III;
  fail(path, "cannot write audio with extension '", ext, "' (use .wav, .flac, .sph or .mp3)");
}

}  // namespace

std::vector<float> read_audio(const std::string& path, int rate, double start, double end) {
  if (rate <= 0) fail(path, "cannot read at a sample rate of ", rate, " Hz");
  InputFile file(path);
  const SF_INFO& info = file.info();
  auto [first, last] = segment_frames(path, info, start, end);
  std::vector<float> x(static_cast<size_t>(last - first) * info.channels);
  if (file.is_mpeg()) {
    // libsndfile's MP3 seeks are not sample-accurate in VBR files (measured: the samples after
    // a seek differ from a full decode's), so an MP3 segment is reached by decoding from the
    // start of the file.
    for (sf_count_t skipped = 0; skipped < first;) {
      sf_count_t n = std::min<sf_count_t>(first - skipped, last - first);
      if (sf_readf_float(file.get(), x.data(), n) != n)
        fail(path, "truncated or corrupt: cannot decode up to sample ", first, " (",
             sf_strerror(file.get()), ")");
      skipped += n;
    }
  } else if (first > 0 && sf_seek(file.get(), first, SEEK_SET) != first) {
    fail(path, "cannot seek to sample ", first, " (", sf_strerror(file.get()), ")");
  }
  sf_count_t got = sf_readf_float(file.get(), x.data(), last - first);
  if (got != last - first || sf_error(file.get()) != SF_ERR_NO_ERROR)
    fail(path, "truncated or corrupt: decoded ", got, " of ", last - first, " samples from ", first,
         " (", sf_strerror(file.get()), ")");
  file.close();
  x = mix_to_mono(x, info.channels);
  if (info.samplerate == rate) return x;
  try {
    return resample(x, info.samplerate, rate);
  } catch (const AudioError& e) {
    fail(path, e.what());
  }
}

bool is_audio_extension(const std::string& ext) {
  static const std::set<std::string> extensions = [] {
    // libsndfile's own list ("wav", "flac", "m1a", "oga", ...) and the usual other names of
    // the same formats; "raw" is left out (header-less: nothing says how to read it).
    std::set<std::string> e = {".mp3", ".mp2", ".mp1", ".sph", ".nist", ".ogg",
                               ".opus", ".aif", ".aifc", ".snd"};
    int count = 0;
    sf_command(nullptr, SFC_GET_FORMAT_MAJOR_COUNT, &count, sizeof count);
    for (int i = 0; i < count; ++i) {
      SF_FORMAT_INFO f{};
      f.format = i;
      if (sf_command(nullptr, SFC_GET_FORMAT_MAJOR, &f, sizeof f) != 0 || !f.extension) continue;
      std::string ext = std::string(".").append(f.extension);
      if (ext != ".raw") e.insert(ext);
    }
    return e;
  }();
  return extensions.count(lower_extension(ext)) > 0;
}

std::string lower_extension(std::string ext) {
  for (char& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return ext;
}

double audio_duration(const std::string& path) {
  InputFile file(path);
  double seconds = static_cast<double>(file.info().frames) / file.info().samplerate;
  file.close();
  return seconds;
}

void write_audio(const std::string& path, const std::vector<float>& samples, int rate,
                 int channels) {
  if (rate <= 0 || channels <= 0 || samples.size() % channels != 0)
    fail(path, "cannot write ", samples.size(), " samples as ", channels, " channels at ", rate,
         " Hz");
  SF_INFO info{};
  info.samplerate = rate;
  info.channels = channels;
  info.format = format_for(path);
  std::string tmp = path + ".tmp";
  {
    SoundFile file(tmp, SFM_WRITE, info);
    // int16 = round(32768 x), clipped: what read_audio's x = int16 / 32768 inverts exactly.
    std::vector<short> pcm(samples.size());
    for (size_t i = 0; i < samples.size(); ++i)
      pcm[i] = static_cast<short>(std::clamp(std::lrint(samples[i] * 32768.0f), -32768L, 32767L));
    sf_count_t frames = static_cast<sf_count_t>(samples.size() / channels);
    sf_count_t done = sf_writef_short(file.get(), pcm.data(), frames);
    if (done != frames)
      fail(tmp, "wrote ", done, " of ", frames, " samples (", sf_strerror(file.get()), ")");
    file.close();
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    std::filesystem::remove(tmp, ec);
    fail(path, "cannot rename ", tmp, " onto it (", ec.message(), ")");
  }
}

bool audio_file_present(const std::string& path) {
  std::error_code ec;
  return std::filesystem::is_regular_file(path, ec);
}

}  // namespace asr
