// What a model needs besides its weights to turn speech into text: its tokenizer and its
// global CMVN statistics. Every checkpoint carries them beside the weights, so that a model
// file is all that asr-eval, asr-convert and asr-train --init need:
//
//   metadata "tokenizer.json"     the tokenizer's index, the file of a tokenizer folder
//                                 ({"type": "char", "pieces": [...]} or {"type": "bpe" |
//                                 "unigram", "model": "tokenizer.model", "vocab_size": n})
//   metadata "tokenizer.model"    sentencepiece only: the model file, base64
//   tensors "cmvn.mean", "cmvn.std"  float32 [bins]: features are (x - mean) / std
//                                 (absent when the model was trained without CMVN)
//
// A data folder's own tokenizer and statistics serve only training from scratch.
#pragma once
#include <memory>
#include <optional>
#include <string>

#include "asr/config/config.h"
#include "asr/data/cmvn.h"
#include "asr/data/prepare.h"
#include "asr/data/tokenizer.h"
#include "nn/safetensors.h"

namespace asr {

struct ModelAssets {
  std::unique_ptr<Tokenizer> tokenizer;
  std::optional<Cmvn> cmvn;  // std::nullopt: features are not normalized (data.cmvn: false)
};

// The metadata and tensors that carry them in a model file.
nn::SafetensorsFile embed_assets(const Tokenizer& tokenizer, const std::optional<Cmvn>& cmvn);

// Those a model file at `path` carries; std::nullopt when it carries none (written before
// checkpoints embedded them). Throws naming `path` when they are damaged or incomplete.
std::optional<ModelAssets> embedded_assets(const nn::SafetensorsFile& file, const std::string& path);

// A model file's tensors less the embedded ones: what loads into the model.
nn::NamedTensors model_weights(const nn::NamedTensors& tensors);

// A data folder's tokenizer and, when `cmvn`, its CMVN statistics.
ModelAssets folder_assets(const DataFolder& folder, bool cmvn);

// What a model file at `path` with config `cfg` decodes with: its embedded parts, else (an
// older file) those of its training data folder (data.train's), said once per process on
// stderr. Throws when the embedded CMVN statistics disagree with cfg.data.cmvn.
ModelAssets checkpoint_assets(const nn::SafetensorsFile& file, const Config& cfg,
                              const std::string& path);

// What a training run uses: the tokenizer and CMVN statistics of `init` (the model file it
// starts from; "" for none) by checkpoint_assets, else those of data.train's folder.
ModelAssets training_assets(const Config& cfg, const std::string& init);

// Refuses a data folder whose own tokenizer differs from the tokenizer of `model` (a model
// file): a model decodes only with the tokenizer it was trained with. A folder without a
// tokenizer passes.
void check_folder_tokenizer(const Tokenizer& tokenizer, const std::string& model,
                            const DataFolder& folder);

}  // namespace asr
