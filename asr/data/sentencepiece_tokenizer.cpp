// Sentencepiece training (through its trainer API, quiet) and encoding with the id shift.
#include "asr/data/sentencepiece_tokenizer.h"

#include <sentencepiece_trainer.h>

#include <nlohmann/json.hpp>

#include <set>
#include <unordered_map>

#include "asr/data/text_chars.h"

namespace asr {

namespace {

const char* const kBlank = "<blank>";

// Feeds the training texts to sentencepiece without a file.
class TextIterator : public sentencepiece::SentenceIterator {
 public:
  explicit TextIterator(const std::vector<std::string>& texts) : texts_(texts) {}
  bool done() const override { return i_ >= texts_.size(); }
  void Next() override { ++i_; }
  const std::string& value() const override { return texts_[i_]; }
  sentencepiece::util::Status status() const override { return {}; }

 private:
  const std::vector<std::string>& texts_;
  size_t i_ = 0;
};

}  // namespace

std::string train_sentencepiece(const std::string& type, const std::vector<std::string>& texts,
                                int64_t vocab_size) {
  std::vector<std::string> lines;
  for (const auto& t : texts)
    if (std::string n = normalize_text(t); !n.empty()) lines.push_back(std::move(n));
  if (lines.empty()) throw TokenizerError("sentencepiece " + type + ": no non-empty training text");
  const std::unordered_map<std::string, std::string> args = {
      {"model_type", type},
      {"vocab_size", std::to_string(vocab_size)},
      {"character_coverage", "1.0"},
      {"normalization_rule_name", "identity"},  // normalize_text has done the normalizing
      {"unk_id", "0"},
      {"bos_id", "-1"},
      {"eos_id", "-1"},
      {"pad_id", "-1"},
      {"input_sentence_size", "0"},  // every sentence
      {"shuffle_input_sentence", "false"},
      {"num_threads", "1"},
      {"minloglevel", "2"},  // errors only (training logs progress to stderr otherwise)
  };
  sentencepiece::SetRandomGeneratorSeed(1);
  TextIterator it(lines);
  std::string model;
  auto status = sentencepiece::SentencePieceTrainer::Train(args, &it, &model);
  if (!status.ok())
    throw TokenizerError("sentencepiece " + type + " training (vocab_size " +
                         std::to_string(vocab_size) + ", " + std::to_string(lines.size()) +
                         " texts) failed: " + status.ToString());
  return model;
}

SentencepieceTokenizer::SentencepieceTokenizer(std::string type, std::string model,
                                               const std::string& source)
    : type_(std::move(type)), model_(std::move(model)) {
  sentencepiece::util::Status status;
  try {
    status = sp_.LoadFromSerializedProto(model_);
  } catch (const std::exception& e) {
    // A model that parses as a proto can still break the library's own index (Darts throws
    // on a zero-length piece; found by fuzz_tokenizer).
    throw TokenizerError(source + ": not a usable sentencepiece model (" + e.what() + ")");
  }
  if (!status.ok())
    throw TokenizerError(source + ": not a sentencepiece model (" + status.ToString() + ")");
  if (sp_.unk_id() != 0)
    throw TokenizerError(source + ": sentencepiece <unk> has id " + std::to_string(sp_.unk_id()) +
                         ", expected 0 (the model was not written by train_tokenizer)");
}

std::vector<int64_t> SentencepieceTokenizer::encode(const std::string& text) const {
  std::string norm = normalize_text(text);
  std::vector<int> sp_ids;
  auto status = sp_.Encode(norm, &sp_ids);
  if (!status.ok())
    throw TokenizerError("sentencepiece could not encode \"" + text + "\": " + status.ToString());
  std::vector<int64_t> ids;
  ids.reserve(sp_ids.size());
  bool unknown = false;
  for (int id : sp_ids) {
    unknown |= sp_.IsUnknown(id);
    ids.push_back(id + 1);
  }
  if (!unknown) return ids;
  std::set<std::string> seen;
  std::string chars;
  for (size_t i = 0; i < norm.size(); i += utf8_char_length(norm, i)) {
    std::string c = norm.substr(i, utf8_char_length(norm, i));
    if (c != " " && sp_.PieceToId(c) == sp_.unk_id() && seen.insert(c).second)
      chars += (chars.empty() ? "" : ", ") + describe_char(norm, i);
  }
  throw TokenizerError("cannot encode \"" + text + "\": characters unseen in the tokenizer's "
                       "training text: " + chars);
}

std::string SentencepieceTokenizer::decode(const std::vector<int64_t>& ids) const {
  std::vector<int> sp_ids;
  sp_ids.reserve(ids.size());
  for (int64_t id : ids) {
    if (id <= 0 || id >= vocab_size())
      throw TokenizerError("decode: id " + std::to_string(id) + " is not a token (tokens are 1.." +
                           std::to_string(vocab_size() - 1) + ", 0 is the blank)");
    sp_ids.push_back(static_cast<int>(id - 1));
  }
  std::string text;
  auto status = sp_.Decode(sp_ids, &text);
  if (!status.ok()) throw TokenizerError("sentencepiece could not decode: " + status.ToString());
  return text;
}

std::string SentencepieceTokenizer::piece(int64_t id) const {
  if (id < 0 || id >= vocab_size())
    throw TokenizerError("piece: id " + std::to_string(id) + " is outside the vocabulary [0, " +
                         std::to_string(vocab_size()) + ")");
  return id == 0 ? kBlank : sp_.IdToPiece(static_cast<int>(id - 1));
}

TokenizerFiles SentencepieceTokenizer::files() const {
  nlohmann::json index = {{"type", type_}, {"model", kTokenizerModel}, {"vocab_size", vocab_size()}};
  return {{kTokenizerIndex, index.dump(2) + "\n"}, {kTokenizerModel, model_}};
}

}  // namespace asr
