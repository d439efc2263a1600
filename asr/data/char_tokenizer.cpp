// Character tokenizer: a byte -> id table over the fixed vocabulary.
#include "asr/data/char_tokenizer.h"

#include <nlohmann/json.hpp>

#include "asr/data/text_chars.h"

namespace asr {

namespace {

const char* const kBlank = "<blank>";
const char* const kSpace = "<space>";

}  // namespace

std::vector<std::string> CharTokenizer::default_pieces() {
  std::vector<std::string> p = {kBlank, kSpace, "'"};
  for (char c = 'A'; c <= 'Z'; ++c) p.emplace_back(1, c);
  return p;
}

CharTokenizer::CharTokenizer(std::vector<std::string> pieces, const std::string& source)
    : pieces_(std::move(pieces)) {
  id_of_byte_.fill(-1);
  if (pieces_.size() < 2 || pieces_[0] != kBlank)
    throw TokenizerError(source + ": a character vocabulary starts with \"<blank>\" and has at "
                         "least one more piece");
  for (size_t id = 1; id < pieces_.size(); ++id) {
    const std::string& p = pieces_[id];
    bool printable = p.size() == 1 && p[0] > ' ' && p[0] < 0x7F;
    if (p != kSpace && !printable)
      throw TokenizerError(source + ": piece " + std::to_string(id) + " \"" + p +
                           "\" is neither \"<space>\" nor one printable ASCII character");
    auto byte = static_cast<unsigned char>(p == kSpace ? ' ' : p[0]);
    if (id_of_byte_[byte] >= 0)
      throw TokenizerError(source + ": piece \"" + p + "\" appears twice (ids " +
                           std::to_string(id_of_byte_[byte]) + " and " + std::to_string(id) + ")");
    id_of_byte_[byte] = static_cast<int64_t>(id);
    known_ += (known_.empty() ? "" : " ") + p;
  }
}

std::vector<int64_t> CharTokenizer::encode(const std::string& text) const {
  std::string norm = normalize_text(text);
  std::vector<int64_t> ids;
  ids.reserve(norm.size());
  for (size_t i = 0; i < norm.size(); ++i) {
    int64_t id = id_of_byte_[static_cast<unsigned char>(norm[i])];
    if (id < 0)
      throw TokenizerError("cannot encode \"" + text + "\": " + describe_char(norm, i) +
                           " is not in the character vocabulary (" + known_ + ")");
    ids.push_back(id);
  }
  return ids;
}

std::string CharTokenizer::decode(const std::vector<int64_t>& ids) const {
  std::string text;
  text.reserve(ids.size());
  for (int64_t id : ids) {
    if (id <= 0 || id >= vocab_size())
      throw TokenizerError("decode: id " + std::to_string(id) + " is not a token (tokens are 1.." +
                           std::to_string(vocab_size() - 1) + ", 0 is the blank)");
    text += pieces_[id] == kSpace ? " " : pieces_[id];
  }
  return text;
}

std::string CharTokenizer::piece(int64_t id) const {
  if (id < 0 || id >= vocab_size())
    throw TokenizerError("piece: id " + std::to_string(id) + " is outside the vocabulary [0, " +
                         std::to_string(vocab_size()) + ")");
  return pieces_[id];
}

TokenizerFiles CharTokenizer::files() const {
  nlohmann::json index = {{"type", "char"}, {"pieces", pieces_}};
  return {{kTokenizerIndex, index.dump(2) + "\n"}};
}

}  // namespace asr
