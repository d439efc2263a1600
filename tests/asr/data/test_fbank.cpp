// Fbank: torchaudio's Kaldi-compatible fbank on real AN4 speech (golden file from
// scripts/make_fbank_golden.py), the mel filterbank's shape, frame counts, dither, threads,
// and bad input.
#include <boost/test/unit_test.hpp>
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <thread>

#include "asr/data/audio.h"
#include "asr/data/fbank.h"
#include "common/an4.h"
#include "common/gradcheck.h"
#include "nn/safetensors.h"

namespace {

const std::string kGolden = LATENTASR_SOURCE_DIR "/tests/data/fbank/fbank_golden.safetensors";

// A sine of `hz` at 16 kHz, amplitude 0.5, `n` samples.
std::vector<float> sine(double hz, int n) {
  std::vector<float> x(n);
  for (int i = 0; i < n; ++i) x[i] = static_cast<float>(0.5 * std::sin(2 * M_PI * hz * i / 16000));
  return x;
}

std::vector<float> an4_utterance() {
  return asr::read_audio((testing::an4_dir() / "dev/1006/1/1006-1-9001.flac").string());
}

const ag::Tensor& golden_tensor(const nn::SafetensorsFile& f, const std::string& name) {
  for (const auto& [n, t] : f.tensors)
    if (n == name) return t;
  BOOST_FAIL(kGolden << " has no tensor " << name);
  throw;
}

double mel_scale(double hz) { return 1127.0 * std::log(1.0 + hz / 700.0); }
double inverse_mel_scale(double mel) { return 700.0 * (std::exp(mel / 1127.0) - 1.0); }


}  // namespace

BOOST_AUTO_TEST_CASE(matches_torchaudio_kaldi_fbank_on_an4) {
  nn::SafetensorsFile golden = nn::load_safetensors(kGolden);
  auto cases = nlohmann::json::parse(golden.metadata.at("cases"));
  BOOST_REQUIRE(!cases.empty());
  double worst = 0;
  for (size_t i = 0; i < cases.size(); ++i) {
    const auto& c = cases[i];
    std::string path = (testing::an4_dir() / c["path"].get<std::string>()).string();
    auto samples = asr::read_audio(path, 16000, c["start"].get<double>(), c["end"].get<double>());
    asr::FbankOptions opt;
    opt.snip_edges = c["snip_edges"].get<bool>();
    ag::Tensor ours = asr::Fbank(opt).compute(samples);
    const ag::Tensor& ref = golden_tensor(golden, "fbank." + std::to_string(i));
    BOOST_REQUIRE(ours.shape() == ref.shape());
    double diff = testing::max_abs_diff(ours, ref);
    std::printf("fbank vs torchaudio, %s [%g, %g) s: %s, largest difference %.3g\n",
                c["path"].get<std::string>().c_str(), c["start"].get<double>(),
                c["end"].get<double>(), ag::shape_str(ours.shape()).c_str(), diff);
    worst = std::max(worst, diff);
  }
  std::printf("fbank vs torchaudio: largest difference %.3g (tolerance 1e-3)\n", worst);
  BOOST_TEST(worst <= 1e-3);
}

BOOST_AUTO_TEST_CASE(mel_banks_are_triangles_from_20_hz_to_nyquist) {
  asr::FbankOptions opt;
  ag::Tensor banks = asr::mel_banks(opt);
  BOOST_REQUIRE(banks.shape() == (ag::Shape{80, 257}));
  const float* w = banks.data();
  const double bin_hz = 16000.0 / 512;
  std::vector<double> centroid(80);
  for (int b = 0; b < 80; ++b) {
    const float* row = w + b * 257;
    int lo = 0, hi = 256;
    while (row[lo] == 0) ++lo;
    while (row[hi] == 0) --hi;
    int peak = static_cast<int>(std::max_element(row, row + 257) - row);
    BOOST_TEST(lo * bin_hz > 20.0);
    BOOST_TEST(hi * bin_hz < 8000.0);
    BOOST_TEST(row[peak] <= 1.0f);
    BOOST_TEST(row[peak] > (b < 10 ? 0.0f : 0.5f));  // the narrowest banks may miss their center
    for (int k = 0; k < 257; ++k) BOOST_TEST(row[k] >= 0.0f);
    for (int k = lo; k < peak; ++k) BOOST_TEST(row[k] <= row[k + 1]);  // rising edge
    for (int k = peak; k < hi; ++k) BOOST_TEST(row[k] >= row[k + 1]);  // falling edge
    for (int k = lo; k <= hi; ++k) BOOST_TEST(row[k] > 0.0f);          // one piece
    double sum = 0, moment = 0;
    for (int k = lo; k <= hi; ++k) {
      sum += row[k];
      moment += row[k] * k * bin_hz;
    }
    centroid[b] = moment / sum;
    if (b > 0) BOOST_TEST(centroid[b] > centroid[b - 1]);
  }
  BOOST_TEST(centroid[0] < 100.0);
  BOOST_TEST(centroid[79] > 7000.0);
  // Triangles are equally spaced in mel from 20 Hz to 8 kHz and overlap so that the weights
  // on each FFT bin between the first and the last center sum to one.
  double delta = (mel_scale(8000) - mel_scale(20)) / 81;
  double first = inverse_mel_scale(mel_scale(20) + delta),
         last = inverse_mel_scale(mel_scale(20) + 80 * delta);
  int checked = 0;
  for (int k = 0; k < 257; ++k) {
    if (k * bin_hz < first || k * bin_hz > last) continue;
    double sum = 0;
    for (int b = 0; b < 80; ++b) sum += w[b * 257 + k];
    BOOST_TEST(std::abs(sum - 1.0) < 1e-5, "bin " << k << " sums to " << sum);
    ++checked;
  }
  BOOST_TEST(checked > 240);
  for (int b = 0; b < 80; ++b) BOOST_TEST(w[b * 257 + 256] == 0.0f);  // Nyquist column
}

BOOST_AUTO_TEST_CASE(frame_counts_follow_kaldi) {
  asr::Fbank fbank;
  BOOST_TEST(fbank.num_frames(399) == 0);
  BOOST_TEST(fbank.num_frames(400) == 1);
  BOOST_TEST(fbank.num_frames(559) == 1);
  BOOST_TEST(fbank.num_frames(560) == 2);
  BOOST_TEST(fbank.num_frames(16000) == 98);  // 1 + (16000 - 400) / 160
  BOOST_TEST(fbank.compute(sine(440, 16000)).size(0) == 98);
  asr::FbankOptions opt;
  opt.snip_edges = false;
  asr::Fbank unsnipped(opt);
  BOOST_TEST(unsnipped.num_frames(16000) == 100);  // (16000 + 80) / 160
  BOOST_TEST(unsnipped.num_frames(16079) == 100);
  BOOST_TEST(unsnipped.num_frames(16080) == 101);
  BOOST_TEST(unsnipped.compute(sine(440, 16000)).size(0) == 100);
}

BOOST_AUTO_TEST_CASE(a_sine_peaks_in_the_bank_around_its_frequency) {
  asr::FbankOptions opt;
  ag::Tensor banks = asr::mel_banks(opt);
  for (double hz : {300.0, 1000.0, 4000.0}) {
    ag::Tensor f = asr::Fbank(opt).compute(sine(hz, 4000));
    int k = static_cast<int>(std::lround(hz / (16000.0 / 512)));
    for (int t = 0; t < f.size(0); ++t) {
      const float* row = f.data() + t * 80;
      int top = static_cast<int>(std::max_element(row, row + 80) - row);
      BOOST_TEST(banks.at({top, k}) > 0.3f, hz << " Hz peaks in bank " << top);
    }
  }
}

BOOST_AUTO_TEST_CASE(dither_is_seeded_and_as_loud_as_kaldis) {
  asr::FbankOptions opt;
  opt.dither = 1.0f;
  asr::Fbank dithered(opt), plain;
  std::vector<float> x = an4_utterance();
  ag::Tensor a = dithered.compute(x, 7), b = dithered.compute(x, 7), c = dithered.compute(x, 8);
  BOOST_TEST(testing::max_abs_diff(a, b) == 0.0);
  BOOST_TEST(testing::max_abs_diff(a, c) > 0.0);
  // Speech is far above one int16 step: dither moves few loud bins by more than 0.01
  // (torchaudio: 605 of 6822 on this utterance).
  ag::Tensor clean = plain.compute(x);
  int loud = 0, moved = 0;
  for (int64_t i = 0; i < clean.numel(); ++i)
    if (clean.data()[i] > 15.0f) {
      ++loud;
      moved += std::abs(a.data()[i] - clean.data()[i]) > 0.01f;
    }
  BOOST_TEST(loud > 1000);
  BOOST_TEST(moved < loud / 5);
  // Digital silence: log(epsilon) without dither; with it, Kaldi's noise floor, bin by bin.
  std::vector<float> silence(60 * 16000, 0.0f);
  for (float v : plain.compute(std::vector<float>(1600)).to_vector())
    BOOST_TEST(v == std::log(1.1920928955078125e-07f));
  ag::Tensor noisy = dithered.compute(silence, 1);
  ag::Tensor ref = golden_tensor(nn::load_safetensors(kGolden), "dithered_silence_mean");
  double worst = 0;
  for (int m = 0; m < 80; ++m) {
    double mean = 0;
    for (int64_t t = 0; t < noisy.size(0); ++t) mean += noisy.at({t, m});
    worst = std::max(worst, std::abs(mean / noisy.size(0) - ref.at({m})));
  }
  std::printf("dithered silence: largest difference of a bin's mean to torchaudio's %.3g\n", worst);
  BOOST_TEST(worst < 0.1);  // sampling noise of the two means: about 0.05
}

BOOST_AUTO_TEST_CASE(each_frame_depends_on_its_own_samples_only) {
  // Frames are computed in blocks of 8; dropping 3 frames' worth of samples shifts the rows.
  asr::Fbank fbank;
  std::vector<float> x = an4_utterance();
  ag::Tensor full = fbank.compute(x);
  ag::Tensor late = fbank.compute(std::vector<float>(x.begin() + 3 * 160, x.end()));
  BOOST_REQUIRE(late.size(0) == full.size(0) - 3);
  double worst = 0;
  for (int64_t t = 0; t < late.size(0); ++t)
    for (int64_t m = 0; m < 80; ++m)
      worst = std::max(worst, double(std::abs(late.at({t, m}) - full.at({t + 3, m}))));
  BOOST_TEST(worst == 0.0);
}

BOOST_AUTO_TEST_CASE(compute_is_thread_safe) {
  asr::Fbank fbank;
  std::vector<float> x = an4_utterance();
  ag::Tensor serial = fbank.compute(x);
  std::vector<ag::Tensor> results(4);
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i)
    threads.emplace_back([&, i] {
      asr::Fbank own;  // plans made on several threads at once, too
      for (int r = 0; r < 5; ++r) results[i] = (i % 2 ? own : fbank).compute(x);
    });
  for (auto& t : threads) t.join();
  for (const auto& r : results) BOOST_TEST(testing::max_abs_diff(r, serial) == 0.0);
}

BOOST_AUTO_TEST_CASE(bad_input_is_refused) {
  asr::Fbank fbank;
  testing::check_error([&] { fbank.compute(std::vector<float>(399)); },
               "399 samples are fewer than one frame");
  testing::check_error([&] { fbank.compute({}); }, "fewer than one frame");
  auto with = [](auto set) {
    asr::FbankOptions opt;
    set(opt);
    return opt;
  };
  testing::check_error([&] { asr::Fbank(with([](auto& o) { o.num_mel_bins = 3; })); }, "num_mel_bins");
  testing::check_error([&] { asr::Fbank(with([](auto& o) { o.low_freq = 9000; })); }, "low_freq");
  testing::check_error([&] { asr::Fbank(with([](auto& o) { o.high_freq = 9000; })); }, "high_freq");
  testing::check_error([&] { asr::Fbank(with([](auto& o) { o.frame_length_ms = 0.05f; })); },
               "frame_length_ms");
  testing::check_error([&] { asr::Fbank(with([](auto& o) { o.frame_shift_ms = 0; })); }, "frame_shift_ms");
  testing::check_error([&] { asr::Fbank(with([](auto& o) { o.sample_rate = 0; })); }, "sample_rate");
  testing::check_error([&] { asr::Fbank(with([](auto& o) { o.preemphasis = 1.5f; })); }, "preemphasis");
  testing::check_error([&] { asr::Fbank(with([](auto& o) { o.dither = -1; })); }, "dither");
}
