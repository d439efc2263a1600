// Tokenizers: characters (letters, apostrophe, space) or a sentencepiece BPE/unigram model
// trained on the training transcripts. Id 0 is the CTC blank in every tokenizer; ids from 1
// are tokens. text -> encode -> decode gives the text back (after normalization: upper case,
// single spaces, trimmed).
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "autograd/error.h"

namespace asr {

// Text a tokenizer cannot represent; the message names the character or word.
struct TokenizerError : ag::Error {
  using ag::Error::Error;
};

// The files that hold a tokenizer: the index, and for sentencepiece the model it names.
inline constexpr const char* kTokenizerIndex = "tokenizer.json";
inline constexpr const char* kTokenizerModel = "tokenizer.model";
// File name -> bytes.
using TokenizerFiles = std::map<std::string, std::string>;

class Tokenizer {
 public:
  virtual ~Tokenizer() = default;
  virtual std::vector<int64_t> encode(const std::string& text) const = 0;
  virtual std::string decode(const std::vector<int64_t>& ids) const = 0;
  virtual int64_t vocab_size() const = 0;  // counts the blank
  virtual std::string piece(int64_t id) const = 0;
  // What rebuilds it (read_tokenizer), as train_tokenizer writes it: tokenizer.json and, for
  // sentencepiece, tokenizer.model. Two tokenizers encode alike when their files are equal.
  virtual TokenizerFiles files() const = 0;
};

// Upper case, characters outside A-Z ' and space kept (encode refuses them), runs of
// whitespace collapsed, trimmed.
std::string normalize_text(const std::string& text);

// The whitespace-separated words of `text` (of a transcript, a hypothesis, a corpus line).
std::vector<std::string> split_words(const std::string& text);

// type: char | bpe | unigram. Trains on `texts` (vocab_size ignored for char) and writes the
// model into `dir` (tokenizer.json for char; tokenizer.model + tokenizer.json for
// sentencepiece), returning it loaded. For sentencepiece, vocab_size is its own vocabulary
// (counting its <unk>); the tokenizer has one id more, the blank. Characters: a fixed
// vocabulary (<blank> <space> ' A-Z). encode is safe to call from several threads.
std::unique_ptr<Tokenizer> train_tokenizer(const std::string& type,
                                           const std::vector<std::string>& texts,
                                           int64_t vocab_size, const std::string& dir);
// Loads what train_tokenizer wrote; throws naming the file when missing or corrupt.
std::unique_ptr<Tokenizer> load_tokenizer(const std::string& dir);
// Rebuilds a tokenizer from its files, got by name through `read` (tokenizer.json, then the
// model file it names); errors name a file as `prefix + name`. load_tokenizer reads a folder
// so; a checkpoint carries the same files in its metadata (asr/data/model_assets.h).
std::unique_ptr<Tokenizer> read_tokenizer(
    const std::function<std::string(const std::string& name)>& read, const std::string& prefix);

}  // namespace asr
