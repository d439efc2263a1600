// Text normalization, and training / saving / loading either kind of tokenizer. A tokenizer
// folder holds tokenizer.json ({"type": "char", "pieces": [...]} or {"type": "bpe" | "unigram",
// "model": "tokenizer.model", "vocab_size": n}) and, for sentencepiece, tokenizer.model.
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

const char* const kIndex = "tokenizer.json";
const char* const kModel = "tokenizer.model";

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

std::unique_ptr<Tokenizer> load_sentencepiece(const json& index, const fs::path& dir,
                                              const std::string& file) {
  fs::path model_path = dir / field(index, "model", json::value_t::string, file).get<std::string>();
  auto tok = std::make_unique<SentencepieceTokenizer>(read_file(model_path), model_path.string());
  auto expected = field(index, "vocab_size", json::value_t::number_unsigned, file).get<int64_t>();
  if (tok->vocab_size() != expected)
    throw TokenizerError(model_path.string() + ": has " + std::to_string(tok->vocab_size()) +
                         " tokens but " + file + " says " + std::to_string(expected));
  return tok;
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

std::unique_ptr<Tokenizer> train_tokenizer(const std::string& type,
                                           const std::vector<std::string>& texts,
                                           int64_t vocab_size, const std::string& dir) {
  json index = {{"type", type}};
  if (type == "char") {
    index["pieces"] = CharTokenizer::default_pieces();
  } else if (type == "bpe" || type == "unigram") {
    std::string model = train_sentencepiece(type, texts, vocab_size);
    fs::create_directories(dir);
    nn::write_file_atomic((fs::path(dir) / kModel).string(), model);
    index["model"] = kModel;
    index["vocab_size"] = SentencepieceTokenizer(model, "trained model").vocab_size();
  } else {
    throw TokenizerError("tokenizer type '" + type + "' is not one of char, bpe, unigram");
  }
  fs::create_directories(dir);
  nn::write_file_atomic((fs::path(dir) / kIndex).string(), index.dump(2) + "\n");
  return load_tokenizer(dir);
}

std::unique_ptr<Tokenizer> load_tokenizer(const std::string& dir) {
  std::string file = (fs::path(dir) / kIndex).string();
  json index = json::parse(read_file(file), nullptr, false);
  if (index.is_discarded() || !index.is_object())
    throw TokenizerError(file + ": not a JSON object");
  std::string type = field(index, "type", json::value_t::string, file).get<std::string>();
  if (type == "bpe" || type == "unigram") return load_sentencepiece(index, dir, file);
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
