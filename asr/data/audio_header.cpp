// Reads the declared length from WAV (RIFF) and NIST SPHERE headers, and bounds an MPEG audio
// stream's length from below by walking its frame headers (ISO 11172-3 / 13818-3).
#include "asr/data/audio_header.h"

#include <algorithm>
#include <array>
#include <cstddef>
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


// MPEG audio (layers I-III, MPEG-1/2/2.5): an optional ID3v2 tag (and zero bytes after it),
// then frames, each a 4-byte header from which its byte length follows. Returns the samples
// the frames hold, or -1 if the file does not start with a frame (after the tag). Stops at the first byte that is not a
// frame header (an ID3v1/APE tag, garbage): the count is then a lower bound.
int64_t mpeg_frames(std::ifstream& in) {
  // kbit/s by [MPEG-1 ? 0 : 1][layer - 1][index]; index 0 (free format) and 15 are unusable.
  static constexpr int kBitrate[2][3][15] = {
      {{0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448},
       {0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384},
       {0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320}},
      {{0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256},
       {0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160},
       {0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160}}};
  static constexpr int kRate[3] = {44100, 48000, 32000};  // MPEG-1; /2 MPEG-2, /4 MPEG-2.5
  in.seekg(0);
  unsigned char h[10];
  if (!in.read(reinterpret_cast<char*>(h), 10)) return -1;
  std::streamoff at = 0;
  if (std::memcmp(h, "ID3", 3) == 0) {  // ID3v2: 10-byte header, syncsafe size, optional footer
    at = 10 + ((h[6] & 0x7f) << 21 | (h[7] & 0x7f) << 14 | (h[8] & 0x7f) << 7 | (h[9] & 0x7f)) +
         ((h[5] & 0x10) ? 10 : 0);
    in.seekg(at);  // zero padding some taggers leave after the tag, as decoders skip it
    for (char c; in.get(c) && c == 0;) ++at;
  }
  int64_t samples = 0;
  for (bool first = true;; first = false) {
    in.clear();
    in.seekg(at);
    if (!in.read(reinterpret_cast<char*>(h), 4) || h[0] != 0xff || (h[1] & 0xe0) != 0xe0)
      return first ? -1 : samples;
    int version = (h[1] >> 3) & 3;  // 3: MPEG-1, 2: MPEG-2, 0: MPEG-2.5
    int layer = 4 - ((h[1] >> 1) & 3);
    int bitrate_index = h[2] >> 4, rate_index = (h[2] >> 2) & 3, padding = (h[2] >> 1) & 1;
    if (version == 1 || layer == 4 || bitrate_index == 0 || bitrate_index == 15 || rate_index == 3)
      return first ? -1 : samples;
    bool mpeg1 = version == 3;
    int64_t bps = kBitrate[mpeg1 ? 0 : 1][layer - 1][bitrate_index] * 1000;
    int64_t rate = kRate[rate_index] >> (mpeg1 ? 0 : version == 2 ? 1 : 2);
    int per_frame = layer == 1 ? 384 : (layer == 3 && !mpeg1) ? 576 : 1152;
    int64_t bytes = layer == 1 ? (12 * bps / rate + padding) * 4
                               : per_frame / 8 * bps / rate + padding;
    samples += per_frame;
    at += bytes;
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
  int64_t mpeg = mpeg_frames(in);
  // A LAME/Xing tag makes decoders drop its own frame, the encoder delay and the padding
  // (12 bits each): at most 1152 + 2 x 4095 samples fewer than the frames hold.
  return mpeg < 0 ? -1 : std::max<int64_t>(0, mpeg - kMpegTrimmedSamples);
}

}  // namespace asr
