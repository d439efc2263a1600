// Tokenizer files (asr/data/tokenizer): tokenizer.json, then (NUL-separated) the sentencepiece
// model it names, whatever its name. A tokenizer that loads encodes and decodes a sentence.
#include "asr/data/tokenizer.h"
#include "fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<std::string> p = fuzz::parts(data, size, 2);
  try {
    auto tok = asr::read_tokenizer(
        [&](const std::string& name) { return name == asr::kTokenizerIndex ? p[0] : p[1]; },
        "fuzz/");
    tok->decode(tok->encode("HELLO WORLD IT'S"));
  } catch (const ag::Error&) {
  }
  return 0;
}
