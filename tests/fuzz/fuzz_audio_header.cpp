// WAV and SPHERE headers (asr/data/audio_header; and the duration libsndfile reads,
// asr/data/audio): the first byte picks the file's extension (.wav, .sph, .mp3), the rest is
// the file.
#include "asr/data/audio.h"
#include "asr/data/audio_header.h"
#include "common/scratch.h"
#include "fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const testing::Scratch scratch("fuzz_audio_header");
  if (size == 0) return 0;
  const char* extensions[] = {".wav", ".sph", ".mp3"};
  std::string path = scratch.write(std::string("audio") + extensions[data[0] % 3],
                                   fuzz::text(data + 1, size - 1));
  asr::declared_frames(path);
  try {
    asr::audio_duration(path);
  } catch (const ag::Error&) {
  }
  return 0;
}
