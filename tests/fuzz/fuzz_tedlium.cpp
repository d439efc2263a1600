// TED-LIUM stm files (asr/data/tedlium): stm/<talk>.stm beside sph/<talk>.sph. The input is
// the stm file of a talk whose audio (one second of SPHERE) is there.
#include "asr/data/audio.h"
#include "asr/data/corpus.h"
#include "common/scratch.h"
#include "fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const testing::Scratch scratch("fuzz_tedlium");
  static const bool audio = [] {
    std::filesystem::create_directories(scratch("split/stm"));
    std::filesystem::create_directories(scratch("split/sph"));
    asr::write_audio(scratch("split/sph/talk.sph"), std::vector<float>(16000, 0.1f), 16000);
    return true;
  }();
  (void)audio;
  scratch.write("split/stm/talk.stm", fuzz::text(data, size));
  asr::SkipCounts skips;
  for (bool keep_unk : {false, true}) {
    try {
      asr::read_tedlium(scratch("split"), keep_unk, skips);
    } catch (const ag::Error&) {
    }
  }
  return 0;
}
