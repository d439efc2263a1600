// safetensors files (nn/safetensors): the header length, the JSON header (dtypes, shapes, byte
// ranges, __metadata__) and the tensor data. Any input either loads or is refused with ag::Error.
#include "autograd/error.h"
#include "common/scratch.h"
#include "fuzz_input.h"
#include "nn/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const testing::Scratch scratch("fuzz_safetensors");
  std::string path = scratch.write("model.safetensors", fuzz::text(data, size));
  try {
    nn::load_safetensors(path);
  } catch (const ag::Error&) {
  }
  return 0;
}
