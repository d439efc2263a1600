// JSONL manifests (asr/data/manifest): one JSON object per line.
#include "asr/data/manifest.h"
#include "common/scratch.h"
#include "fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const testing::Scratch scratch("fuzz_manifest");
  std::string path = scratch.write("train.jsonl", fuzz::text(data, size));
  try {
    asr::read_manifest(path);
  } catch (const ag::Error&) {
  }
  return 0;
}
