// Kaldi data directories (asr/data/kaldi_dir): the input is text, wav.scp, segments and utt2spk,
// NUL-separated (segments and utt2spk left out when empty). The folder, made the current
// directory on the first input (so name corpus folders by absolute paths), holds one real
// recording, a.wav (one second); wav.scp paths naming other folders (a '/') are not tried, so
// that no input reads a device or a file elsewhere.
#include <unistd.h>

#include "asr/data/audio.h"
#include "asr/data/corpus.h"
#include "common/scratch.h"
#include "fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const testing::Scratch scratch("fuzz_kaldi_dir");
  static const bool audio = [] {
    asr::write_audio(scratch("a.wav"), std::vector<float>(16000, 0.1f), 16000);
    return chdir(scratch.dir.c_str()) == 0;
  }();
  if (!audio) return 0;
  std::vector<std::string> p = fuzz::parts(data, size, 4);
  if (p[1].find('/') != std::string::npos) return 0;
  const char* names[] = {"text", "wav.scp", "segments", "utt2spk"};
  for (int i = 0; i < 4; ++i) {
    if (i < 2 || !p[i].empty()) scratch.write(names[i], p[i]);
    else std::filesystem::remove(scratch(names[i]));
  }
  asr::SkipCounts skips;
  try {
    asr::read_kaldi_dir(scratch.dir.string(), skips);
  } catch (const ag::Error&) {
  }
  return 0;
}
