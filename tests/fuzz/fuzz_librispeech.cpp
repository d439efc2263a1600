// LibriSpeech transcripts (asr/data/librispeech): <speaker>-<chapter>.trans.txt beside the
// audio. The input is the transcript; one utterance (1-2-0000) has a real audio file.
#include "asr/data/audio.h"
#include "asr/data/corpus.h"
#include "common/scratch.h"
#include "fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const testing::Scratch scratch("fuzz_librispeech");
  static const bool audio = [] {
    std::filesystem::create_directories(scratch("split/1/2"));
    asr::write_audio(scratch("split/1/2/1-2-0000.wav"), std::vector<float>(1600, 0.1f), 16000);
    return true;
  }();
  (void)audio;
  scratch.write("split/1/2/1-2.trans.txt", fuzz::text(data, size));
  asr::SkipCounts skips;
  try {
    asr::read_librispeech(scratch("split"), skips);
  } catch (const ag::Error&) {
  }
  return 0;
}
