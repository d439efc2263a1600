// For the fuzz targets: the fuzzer's bytes as text, and as several files' texts.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace fuzz {

inline std::string text(const uint8_t* data, size_t size) {
  return std::string(reinterpret_cast<const char*>(data), size);
}

// The input cut at its NUL bytes into `n` parts (the last one keeps any further NULs; parts
// past the input's end are empty): one input stands for several files.
inline std::vector<std::string> parts(const uint8_t* data, size_t size, size_t n) {
  std::vector<std::string> out(n);
  std::string all = text(data, size);
  size_t begin = 0;
  for (size_t i = 0; i < n && begin <= all.size(); ++i) {
    size_t end = i + 1 < n ? all.find('\0', begin) : std::string::npos;
    if (end == std::string::npos) end = all.size();
    out[i] = all.substr(begin, end - begin);
    begin = end + 1;
  }
  return out;
}

}  // namespace fuzz
