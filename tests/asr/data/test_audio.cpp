// Audio I/O: FLAC (AN4), WAV and NIST SPHERE (written here from AN4 with libsndfile),
// segments, channel mixdown, resampling, speed perturbation, and every bad-file case.
#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <thread>

#include "asr/data/audio.h"
#include "common/scratch.h"
#include "common/an4.h"

namespace fs = std::filesystem;

namespace {

const std::string& an4_flac() {
  static const std::string path = (testing::an4_dir() / "dev/1006/1/1006-1-9001.flac").string();
  return path;
}

// amplitude * sin(2 pi hz t), n samples at `rate`.
std::vector<float> sine(double hz, double rate, size_t n, double amplitude = 0.5) {
  std::vector<float> x(n);
  for (size_t i = 0; i < n; ++i)
    x[i] = static_cast<float>(amplitude * std::sin(2 * M_PI * hz * i / rate));
  return x;
}

// Amplitude of the `hz` component of x at `rate` (a single DFT bin, exact for whole periods).
double amplitude_at(const std::vector<float>& x, double hz, double rate) {
  double re = 0, im = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    re += x[i] * std::cos(2 * M_PI * hz * i / rate);
    im += x[i] * std::sin(2 * M_PI * hz * i / rate);
  }
  return 2 * std::hypot(re, im) / x.size();
}

std::vector<float> slice(const std::vector<float>& x, size_t first, size_t last) {
  return std::vector<float>(x.begin() + first, x.begin() + last);
}

void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// fn() throws AudioError whose message names `path` and contains `part`.
template <class Fn>
void expect_audio_error(Fn&& fn, const std::string& path, const std::string& part) {
  try {
    fn();
    BOOST_ERROR("no error for " << path << "; expected \"" << part << "\"");
  } catch (const asr::AudioError& e) {
    std::string what = e.what();
    BOOST_TEST(what.find(path) != std::string::npos, "\"" << what << "\" does not name " << path);
    BOOST_TEST(what.find(part) != std::string::npos, "\"" << what << "\" lacks \"" << part << "\"");
  }
}

}  // namespace

BOOST_AUTO_TEST_CASE(reads_an4_flac_as_int16_steps) {
  std::vector<float> x = asr::read_audio(an4_flac());
  BOOST_TEST(x.size() == 52800u);
  BOOST_TEST(asr::audio_duration(an4_flac()) == 3.3);
  float peak = 0;
  for (float v : x) {
    BOOST_TEST(v * 32768.0f == std::round(v * 32768.0f));
    peak = std::max(peak, std::abs(v));
  }
  BOOST_TEST(peak * 32768 == 5682.0f);  // as torchaudio.load reads it
}

BOOST_AUTO_TEST_CASE(wav_and_sphere_read_back_the_same_samples) {
  testing::Scratch scratch("test_audio");
  std::vector<float> x = asr::read_audio(an4_flac());
  for (const char* name : {"a.wav", "a.sph", "a.flac"}) {
    std::string path = scratch(name);
    asr::write_audio(path, x, 16000);
    BOOST_TEST(!fs::exists(path + ".tmp"));
    BOOST_TEST(asr::audio_duration(path) == 3.3, name);
    BOOST_TEST(asr::read_audio(path) == x, name);
  }
  BOOST_TEST(read_bytes(scratch("a.sph")).rfind("NIST_1A\n", 0) == 0);
  BOOST_TEST(read_bytes(scratch("a.wav")).rfind("RIFF", 0) == 0);
}

BOOST_AUTO_TEST_CASE(segments_are_read_by_seeking) {
  testing::Scratch scratch("test_audio");
  std::vector<float> x = asr::read_audio(an4_flac());
  asr::write_audio(scratch("a.wav"), x, 16000);
  asr::write_audio(scratch("a.sph"), x, 16000);
  for (const std::string& path : {an4_flac(), scratch("a.wav"), scratch("a.sph")}) {
    BOOST_TEST(asr::read_audio(path, 16000, 1.0, 1.5) == slice(x, 16000, 24000), path);
    BOOST_TEST(asr::read_audio(path, 16000, 2.0) == slice(x, 32000, 52800), path);
    BOOST_TEST(asr::read_audio(path, 16000, 0.0, 0.25) == slice(x, 0, 4000), path);
    // Up to kMaxSegmentOvershoot past the end is cut at the end.
    BOOST_TEST(asr::read_audio(path, 16000, 3.0, 3.3 + 0.4) == slice(x, 48000, 52800), path);
  }
}

BOOST_AUTO_TEST_CASE(a_segment_of_a_long_talk_costs_only_the_segment) {
  // A 300-hour NIST SPHERE talk (34 GB, sparse: only the header and one utterance are on disk)
  // with an AN4 utterance at hour 299. Decoding up to the segment would take minutes (and
  // whole-file decoding 69 GB of floats); a seek reads the utterance alone.
  testing::Scratch scratch("test_audio");
  std::string path = scratch("long.sph");
  std::vector<float> x = asr::read_audio(an4_flac());
  const int64_t frames = int64_t{300} * 3600 * 16000, at = int64_t{299} * 3600 * 16000;
  std::string header = "NIST_1A\n   1024\nsample_count -i " + std::to_string(frames) +
                       "\nsample_rate -i 16000\nchannel_count -i 1\nsample_n_bytes -i 2\n"
                       "sample_byte_format -s2 01\nsample_coding -s3 pcm\nend_head\n";
  header.resize(1024, ' ');
  std::string pcm;
  for (float v : x) {
    auto s = static_cast<uint16_t>(static_cast<int16_t>(std::lround(v * 32768.0f)));
    pcm += {static_cast<char>(s & 0xff), static_cast<char>(s >> 8)};
  }
  {
    std::ofstream out(path, std::ios::binary);
    out << header;
    out.seekp(1024 + at * 2);
    out << pcm;
  }
  fs::resize_file(path, 1024 + frames * 2);
  BOOST_TEST(asr::audio_duration(path) == 300.0 * 3600);
  auto t0 = std::chrono::steady_clock::now();
  std::vector<float> y = asr::read_audio(path, 16000, 299.0 * 3600, 299.0 * 3600 + 3.3);
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  BOOST_TEST(y == x, boost::test_tools::per_element());
  BOOST_TEST(seconds < 0.5, "reading 3.3 s of a 300-hour talk took " << seconds << " s");
}

BOOST_AUTO_TEST_CASE(channels_are_mixed_to_mono) {
  testing::Scratch scratch("test_audio");
  std::vector<float> left = sine(440, 16000, 8000), stereo;
  for (float v : left) {
    stereo.push_back(v);
    stereo.push_back(0.5f * v);
  }
  asr::write_audio(scratch("stereo.wav"), stereo, 16000, 2);
  std::vector<float> mono = asr::read_audio(scratch("stereo.wav"));
  BOOST_REQUIRE(mono.size() == 8000u);
  double worst = 0;
  for (size_t i = 0; i < mono.size(); ++i)
    worst = std::max(worst, std::abs(mono[i] - 0.75 * left[i]));
  BOOST_TEST(worst < 1.0 / 32768);  // one int16 step of rounding in the file
}

BOOST_AUTO_TEST_CASE(other_rates_are_resampled_keeping_frequency) {
  testing::Scratch scratch("test_audio");
  for (int rate : {8000, 22050, 44100}) {
    std::string path = scratch("sine" + std::to_string(rate) + ".wav");
    asr::write_audio(path, sine(1000, rate, rate), rate);  // 1 s of 1 kHz
    BOOST_TEST(asr::audio_duration(path) == 1.0);
    std::vector<float> y = asr::read_audio(path);
    BOOST_TEST(std::abs(static_cast<double>(y.size()) - 16000) <= 1, rate << " Hz: " << y.size());
    std::vector<float> middle = slice(y, 4000, 12000);  // away from the filter's edges
    BOOST_TEST(std::abs(amplitude_at(middle, 1000, 16000) - 0.5) < 0.01, rate << " Hz");
    BOOST_TEST(amplitude_at(middle, 1100, 16000) < 0.01, rate << " Hz");
    // A segment of a resampled file: seconds refer to the file's own rate.
    std::vector<float> seg = asr::read_audio(path, 16000, 0.25, 0.75);
    BOOST_TEST(std::abs(static_cast<double>(seg.size()) - 8000) <= 1);
  }
  std::vector<float> up = asr::resample(sine(440, 16000, 16000), 16000, 48000);
  BOOST_TEST(up.size() == 48000u);
  BOOST_TEST(std::abs(amplitude_at(slice(up, 12000, 36000), 440, 48000) - 0.5) < 0.01);
  BOOST_TEST(asr::resample({}, 16000, 8000).empty());
}

BOOST_AUTO_TEST_CASE(resampling_runs_on_several_threads_at_once) {
  std::vector<float> x = asr::read_audio(an4_flac());
  std::vector<float> serial = asr::change_speed(x, 1.1), up = asr::resample(x, 16000, 44100);
  std::vector<std::vector<float>> results(4);
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i)
    threads.emplace_back([&, i] {
      for (int r = 0; r < 3; ++r)
        results[i] = i % 2 ? asr::change_speed(x, 1.1) : asr::resample(x, 16000, 44100);
    });
  for (auto& t : threads) t.join();
  for (int i = 0; i < 4; ++i) BOOST_TEST((results[i] == (i % 2 ? serial : up)), "thread " << i);
}

BOOST_AUTO_TEST_CASE(speed_perturbation_changes_length_and_pitch) {
  std::vector<float> x = sine(1000, 16000, 32000);  // 2 s
  for (double factor : {0.9, 1.1}) {
    std::vector<float> y = asr::change_speed(x, factor);
    BOOST_TEST(std::abs(y.size() - x.size() / factor) <= 1, factor << ": " << y.size());
    std::vector<float> middle = slice(y, 4000, y.size() - 4000);
    double hz = 1000 * factor;  // plays `factor` times faster: the tone rises with it
    BOOST_TEST(amplitude_at(middle, hz, 16000) > 0.45, factor);
    BOOST_TEST(amplitude_at(middle, 1000, 16000) < 0.05, factor);
  }
  BOOST_TEST(asr::change_speed(x, 1.0) == x);
  std::vector<float> speech = asr::read_audio(an4_flac());
  BOOST_TEST(std::abs(asr::change_speed(speech, 1.1).size() - 52800 / 1.1) <= 1);
}

BOOST_AUTO_TEST_CASE(bad_files_name_the_file) {
  testing::Scratch scratch("test_audio");
  std::string flac = read_bytes(an4_flac());
  std::vector<float> x = asr::read_audio(an4_flac());
  asr::write_audio(scratch("full.wav"), x, 16000);
  asr::write_audio(scratch("full.sph"), x, 16000);
  write_bytes(scratch("truncated.flac"), flac.substr(0, flac.size() / 2));
  write_bytes(scratch("truncated.wav"), read_bytes(scratch("full.wav")).substr(0, 50000));
  write_bytes(scratch("truncated.sph"), read_bytes(scratch("full.sph")).substr(0, 50000));
  write_bytes(scratch("header_only.flac"), flac.substr(0, 30));
  write_bytes(scratch("empty.wav"), "");
  std::string garbage(5000, '\0');
  for (size_t i = 0; i < garbage.size(); ++i) garbage[i] = static_cast<char>((i * 7919 + 13) % 251);
  write_bytes(scratch("garbage.flac"), garbage);
  asr::write_audio(scratch("silent.wav"), {}, 16000);

  auto both = [&](const std::string& path, const std::string& part) {
    expect_audio_error([&] { asr::read_audio(path); }, path, part);
    expect_audio_error([&] { asr::audio_duration(path); }, path, part);
  };
  both(scratch("missing.flac"), "no such audio file");
  both(scratch(""), "is a directory");
  both(scratch("garbage.flac"), "cannot open as audio");
  both(scratch("header_only.flac"), "cannot open as audio");
  both(scratch("empty.wav"), "cannot open as audio");
  both(scratch("silent.wav"), "has no samples");
  both(scratch("truncated.wav"), "truncated: the header declares 52800 samples");
  both(scratch("truncated.sph"), "truncated: the header declares 52800 samples");
  // FLAC declares its length too, but the loss shows when decoding.
  expect_audio_error([&] { asr::read_audio(scratch("truncated.flac")); }, scratch("truncated.flac"),
                     "truncated or corrupt");
}

BOOST_AUTO_TEST_CASE(segments_outside_the_file_are_refused) {
  const std::string& f = an4_flac();  // 3.3 s
  expect_audio_error([&] { asr::read_audio(f, 16000, 3.5, 3.7); }, f, "starts at or after the end");
  expect_audio_error([&] { asr::read_audio(f, 16000, 3.3); }, f, "starts at or after the end");
  expect_audio_error([&] { asr::read_audio(f, 16000, 3.29998, 3.4); }, f, "holds no samples");
  expect_audio_error([&] { asr::read_audio(f, 16000, 1.0, 3.9); }, f,
                     "ends after the end of the file");
  expect_audio_error([&] { asr::read_audio(f, 16000, -0.1, 1.0); }, f, "starts before 0");
  expect_audio_error([&] { asr::read_audio(f, 16000, 1.0, 1.0); }, f, "is empty");
  expect_audio_error([&] { asr::read_audio(f, 16000, 2.0, 1.0); }, f, "is empty");
  expect_audio_error([&] { asr::read_audio(f, 0); }, f, "sample rate of 0 Hz");
}

BOOST_AUTO_TEST_CASE(bad_arguments_are_refused) {
  testing::Scratch scratch("test_audio");
  std::string ogg = scratch("a.ogg");
  expect_audio_error([&] { asr::write_audio(ogg, {0.0f}, 16000); }, ogg,
                     "use .wav, .flac, .sph or .mp3");
  expect_audio_error(
      [&] {
        asr::write_audio(scratch("a.wav"), {0.0f, 0.0f, 0.0f}, 16000, 2);
      },
      scratch("a.wav"), "2 channels");
  std::string nowhere = scratch("no/such/folder/a.wav");
  expect_audio_error([&] { asr::write_audio(nowhere, {0.0f}, 16000); }, nowhere, "cannot open");
  BOOST_CHECK_THROW(asr::resample({1.0f}, 0, 16000), asr::AudioError);
  BOOST_CHECK_THROW(asr::resample({1.0f}, 16000, -1), asr::AudioError);
  BOOST_CHECK_THROW(asr::change_speed({1.0f}, 0), asr::AudioError);
  BOOST_CHECK_THROW(asr::change_speed({1.0f}, -1.1), asr::AudioError);
}
