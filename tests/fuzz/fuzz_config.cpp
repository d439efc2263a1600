// YAML configs with --set overrides (asr/config). Input: the YAML text, then NUL-separated
// overrides ("section.key=value"). A config that parses and validates is written back with
// to_yaml and must read back equal.
#include <cstdlib>

#include "asr/config/config.h"
#include "fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<std::string> p = fuzz::parts(data, size, 4);
  std::vector<std::string> overrides(p.begin() + 1, p.end());
  while (!overrides.empty() && overrides.back().empty()) overrides.pop_back();
  asr::Config c;
  try {
    c = asr::parse_config(p[0], "fuzz.yaml", overrides);
  } catch (const ag::Error&) {
    return 0;
  }
  if (!(asr::parse_config(asr::to_yaml(c), "to_yaml") == c)) std::abort();
  return 0;
}
