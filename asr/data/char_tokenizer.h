// Character tokenizer: one id per character of normalized text. The vocabulary is fixed:
//   0 <blank>, 1 <space> (the word boundary), 2 ', 3..28 A..Z
// so that every character model shares the same output layer whatever the data.
#pragma once
#include <array>

#include "asr/data/tokenizer.h"

namespace asr {

class CharTokenizer : public Tokenizer {
 public:
  // pieces[0] must be "<blank>"; the others "<space>" or one printable ASCII character.
  // `source` names where the pieces came from, for error messages.
  explicit CharTokenizer(std::vector<std::string> pieces, const std::string& source);
  static std::vector<std::string> default_pieces();

  std::vector<int64_t> encode(const std::string& text) const override;
  std::string decode(const std::vector<int64_t>& ids) const override;
  int64_t vocab_size() const override { return static_cast<int64_t>(pieces_.size()); }
  std::string piece(int64_t id) const override;
  TokenizerFiles files() const override;  // tokenizer.json: {"type": "char", "pieces": [...]}
  const std::vector<std::string>& pieces() const { return pieces_; }

 private:
  std::vector<std::string> pieces_;
  std::array<int64_t, 256> id_of_byte_;  // -1: not in the vocabulary
  std::string known_;                    // "<space> ' A B ..." for error messages
};

}  // namespace asr
