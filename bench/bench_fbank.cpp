// Fbank benchmark, our side: reads the audio files named on the command line, joins them
// into one waveform and prints one JSON object per row with the median milliseconds of
// asr::Fbank::compute on it (one thread). bench/fbank.py runs it beside torchaudio.
// `--dump OUT.npy` also writes the features (without dither) for comparison.
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "asr/data/audio.h"
#include "asr/data/fbank.h"
#include "asr/data/npy.h"
#include "timer.h"

namespace {

void row(const char* name, double ms, int64_t frames, double seconds) {
  std::printf("{\"row\": \"%s\", \"ms\": %.4f, \"frames\": %lld, \"seconds\": %.3f}\n", name, ms,
              static_cast<long long>(frames), seconds);
}

}  // namespace

int main(int argc, char** argv) {
  std::string dump;
  std::vector<float> wave;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--dump") == 0 && i + 1 < argc) {
      dump = argv[++i];
      continue;
    }
    std::vector<float> x = asr::read_audio(argv[i]);
    wave.insert(wave.end(), x.begin(), x.end());
  }
  if (wave.empty()) {
    std::fprintf(stderr, "usage: bench_fbank [--dump OUT.npy] AUDIO...\n");
    return 2;
  }
  double seconds = static_cast<double>(wave.size()) / asr::kSampleRate;
  asr::Fbank fbank;
  int64_t frames = fbank.num_frames(static_cast<int64_t>(wave.size()));
  row("fbank", bench::median_ms([&] { fbank.compute(wave); }), frames, seconds);
  asr::FbankOptions dithered;
  dithered.dither = 1.0f;
  asr::Fbank fbank_dither(dithered);
  row("fbank_dither", bench::median_ms([&] { fbank_dither.compute(wave, 1); }), frames, seconds);
  if (!dump.empty()) asr::write_npy(dump, fbank.compute(wave));
  return 0;
}
