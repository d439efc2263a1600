// Sentencepiece tokenizer (BPE or unigram). Our id = sentencepiece id + 1, so the CTC blank is 0
// and sentencepiece's <unk> is 1 (kept as an output unit, never produced by encode: text with a
// character unseen in training is refused instead). Words start with "▁" pieces.
#pragma once
#include <sentencepiece_processor.h>

#include "asr/data/tokenizer.h"

namespace asr {

class SentencepieceTokenizer : public Tokenizer {
 public:
  // `model` is a serialized sentencepiece ModelProto of `type` (bpe | unigram) read from
  // `source` (named in errors).
  SentencepieceTokenizer(std::string type, std::string model, const std::string& source);

  std::vector<int64_t> encode(const std::string& text) const override;
  std::string decode(const std::vector<int64_t>& ids) const override;
  int64_t vocab_size() const override { return sp_.GetPieceSize() + 1; }
  std::string piece(int64_t id) const override;
  // tokenizer.json {"type", "model": "tokenizer.model", "vocab_size"} and tokenizer.model.
  TokenizerFiles files() const override;

 private:
  sentencepiece::SentencePieceProcessor sp_;
  std::string type_, model_;
};

// Trains a `type` (bpe | unigram) model of `vocab_size` pieces (counting <unk>, not the blank)
// on normalized `texts`; returns the serialized ModelProto. Deterministic: fixed seed, one
// thread, no sampling or shuffling of sentences.
std::string train_sentencepiece(const std::string& type, const std::vector<std::string>& texts,
                                int64_t vocab_size);

}  // namespace asr
