// Text normalization, and training / saving / loading either kind of tokenizer. A tokenizer
// folder holds tokenizer.json ({"type": "char", "pieces": [...]} or {"type": "bpe" | "unigram",
// "model": "tokenizer.model", "vocab_size": n}) and, for sentencepiece, tokenizer.model; each
// tokenizer writes its own (files()).
#include "asr/data/tokenizer.h"

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "asr/data/char_tokenizer.h"
#include "nn/safetensors.h"
#include "asr/data/sentencepiece_tokenizer.h"

namespace asr {

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw TokenizerError(path.string() + ": cannot open (missing or unreadable)");
  std::ostringstream s;
  s << in.rdbuf();
  if (in.bad()) throw TokenizerError(path.string() + ": read failed");
  return s.str();
}

// The value of `key` in the index, which must have the JSON type `kind`.
const json& field(const json& index, const char* key, json::value_t kind, const std::string& file) {
  auto it = index.find(key);
  if (it == index.end() || it->type() != kind)
    throw TokenizerError(file + ": key '" + key + "' is missing or of the wrong type");
  return *it;
}

}  // namespace

std::string normalize_text(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  bool pending_space = false;
  for (char c : text) {
    if (is_space(c)) {
      pending_space = !out.empty();
      continue;
    }
    if (pending_space) out.push_back(' ');
    pending_space = false;
    out.push_back(c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c);
  }
  return out;
}

std::vector<std::string> split_words(const std::string& text) {
  std::istringstream in(text);
  std::vector<std::string> out;
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

std::unique_ptr<Tokenizer> train_tokenizer(const std::string& type,
                                           const std::vector<std::string>& texts,
                                           int64_t vocab_size, const std::string& dir) {
  std::unique_ptr<Tokenizer> tok;
  if (type == "char") {
    tok = std::make_unique<CharTokenizer>(CharTokenizer::default_pieces(), "default pieces");
  } else if (type == "bpe" || type == "unigram") {
    tok = std::make_unique<SentencepieceTokenizer>(type, train_sentencepiece(type, texts, vocab_size),
                                                   "trained model");
  } else {
    throw TokenizerError("tokenizer type '" + type + "' is not one of char, bpe, unigram");
  }
  fs::create_directories(dir);
  // The index last: a folder with an index has its model.
  TokenizerFiles files = tok->files();
  for (const auto& [name, bytes] : files)
    if (name != kTokenizerIndex) nn::write_file_atomic((fs::path(dir) / name).string(), bytes);
  nn::write_file_atomic((fs::path(dir) / kTokenizerIndex).string(), files.at(kTokenizerIndex));
  return load_tokenizer(dir);
}

std::unique_ptr<Tokenizer> load_tokenizer(const std::string& dir) {
  return read_tokenizer([&](const std::string& name) { return read_file(fs::path(dir) / name); },
                        (fs::path(dir) / "").string());
}

std::unique_ptr<Tokenizer> read_tokenizer(
    const std::function<std::string(const std::string& name)>& read, const std::string& prefix) {
  const std::string file = prefix + kTokenizerIndex;
  json index = json::parse(read(kTokenizerIndex), nullptr, false);
  if (index.is_discarded() || !index.is_object())
    throw TokenizerError(file + ": not a JSON object");
  std::string type = field(index, "type", json::value_t::string, file).get<std::string>();
  if (type == "bpe" || type == "unigram") {
    std::string name = field(index, "model", json::value_t::string, file).get<std::string>();
    auto tok = std::make_unique<SentencepieceTokenizer>(type, read(name), prefix + name);
    auto expected = field(index, "vocab_size", json::value_t::number_unsigned, file).get<int64_t>();
    if (tok->vocab_size() != expected)
      throw TokenizerError(prefix + name + ": has " + std::to_string(tok->vocab_size()) +
                           " tokens but " + file + " says " + std::to_string(expected));
    return tok;
  }
  if (type != "char")
    throw TokenizerError(file + ": type '" + type + "' is not one of char, bpe, unigram");
  std::vector<std::string> pieces;
  for (const auto& p : field(index, "pieces", json::value_t::array, file)) {
    if (!p.is_string()) throw TokenizerError(file + ": 'pieces' holds a non-string");
    pieces.push_back(p.get<std::string>());
  }
  return std::make_unique<CharTokenizer>(std::move(pieces), file);
}

}  // namespace asr
