// Reads the declared length from WAV (RIFF) and NIST SPHERE headers.
#include "asr/data/audio_header.h"

#include <array>
#include <cstring>
#include <fstream>

namespace asr {
namespace {

uint32_t le32(const char* p) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(p[i]);
  return v;
}

// RIFF/WAVE: walk the chunks to "fmt " (block align) and "data" (byte count).
int64_t wav_frames(std::ifstream& in) {
  uint32_t block_align = 0;
  std::array<char, 16> fmt{};
  char chunk[8];
  while (in.read(chunk, 8)) {
    uint32_t size = le32(chunk + 4);
    if (std::memcmp(chunk, "fmt ", 4) == 0) {
      if (size < 16 || !in.read(fmt.data(), 16)) return -1;
      block_align = static_cast<uint8_t>(fmt[12]) | (static_cast<uint8_t>(fmt[13]) << 8);
      in.seekg(size - 16 + (size & 1), std::ios::cur);
    } else if (std::memcmp(chunk, "data", 4) == 0) {
      bool placeholder = size == 0 || size == 0xFFFFFFFFu;
      return placeholder || block_align == 0 ? -1 : static_cast<int64_t>(size / block_align);
    } else {
      in.seekg(size + (size & 1), std::ios::cur);
    }
  }
  return -1;
}

// NIST SPHERE: the "sample_count -i N" field of the ASCII header (frames per channel).
int64_t sphere_frames(std::ifstream& in) {
  std::string header(1024, '\0');
  in.read(header.data(), static_cast<std::streamsize>(header.size()));
  header.resize(static_cast<size_t>(in.gcount()));
  size_t at = header.find("\nsample_count -i ");
  if (at == std::string::npos) return -1;
  try {
    return std::stoll(header.substr(at + 17, 20));
  } catch (const std::exception&) {
    return -1;
  }
}

}  // namespace

int64_t declared_frames(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  char magic[12];
  if (!in.read(magic, 12)) return -1;
  if (std::memcmp(magic, "RIFF", 4) == 0 && std::memcmp(magic + 8, "WAVE", 4) == 0)
    return wav_frames(in);
  if (std::memcmp(magic, "NIST_1A\n", 8) == 0) {
    in.seekg(0);
    return sphere_frames(in);
  }
  return -1;
}

}  // namespace asr
