// UTF-8 character boundaries and readable names for characters in error messages.
#include "asr/data/text_chars.h"

#include <cstdint>
#include <cstdio>

namespace asr {

namespace {

// Length announced by a UTF-8 lead byte; 0 for a continuation or invalid byte.
size_t lead_length(unsigned char b) {
  if (b < 0x80) return 1;
  if ((b & 0xE0) == 0xC0) return 2;
  if ((b & 0xF0) == 0xE0) return 3;
  if ((b & 0xF8) == 0xF0) return 4;
  return 0;
}

std::string hex(uint32_t v, int digits) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%0*X", digits, v);
  return buf;
}

}  // namespace

size_t utf8_char_length(const std::string& text, size_t pos) {
  size_t n = lead_length(static_cast<unsigned char>(text[pos]));
  if (n == 0 || pos + n > text.size()) return 1;
  for (size_t i = 1; i < n; ++i)
    if ((static_cast<unsigned char>(text[pos + i]) & 0xC0) != 0x80) return 1;
  return n;
}

std::string describe_char(const std::string& text, size_t pos) {
  auto lead = static_cast<unsigned char>(text[pos]);
  size_t n = utf8_char_length(text, pos);
  if (n == 1 && lead >= 0x80) return "invalid UTF-8 byte 0x" + hex(lead, 2);
  uint32_t code = n == 1 ? lead : lead & (0x7F >> n);
  for (size_t i = 1; i < n; ++i)
    code = (code << 6) | (static_cast<unsigned char>(text[pos + i]) & 0x3F);
  std::string r(1, '\'');
  r.append(text, pos, n).append("' (U+").append(hex(code, 4)).append(")");
  return r;
}

}  // namespace asr
