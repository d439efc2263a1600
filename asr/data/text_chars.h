// Characters of UTF-8 text for tokenizers and their error messages.
#pragma once
#include <cstddef>
#include <string>

namespace asr {

// Bytes of the UTF-8 character starting at text[pos] (1 for a stray or truncated byte).
size_t utf8_char_length(const std::string& text, size_t pos);

// "'é' (U+00E9)" for the character at text[pos]; "invalid UTF-8 byte 0xE9" where it is not.
std::string describe_char(const std::string& text, size_t pos);

}  // namespace asr
