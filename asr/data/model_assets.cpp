// The tokenizer and CMVN statistics inside a model file: tokenizer files as metadata (binary
// ones base64), the normalization as two tensors; the lookups of evaluation and training.
#include "asr/data/model_assets.h"

#include <cstring>
#include <filesystem>
#include <iostream>
#include <mutex>
#include <nlohmann/json.hpp>

namespace asr {
namespace fs = std::filesystem;

namespace {

const char* const kCmvnPrefix = "cmvn.";
const char* const kCmvnMean = "cmvn.mean";
const char* const kCmvnStd = "cmvn.std";
const char* const kBase64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

// RFC 4648 base64 with '=' padding.
std::string base64_encode(const std::string& bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  for (size_t i = 0; i < bytes.size(); i += 3) {
    uint32_t n = static_cast<uint32_t>(static_cast<unsigned char>(bytes[i])) << 16;
    if (i + 1 < bytes.size()) n |= static_cast<uint32_t>(static_cast<unsigned char>(bytes[i + 1])) << 8;
    if (i + 2 < bytes.size()) n |= static_cast<unsigned char>(bytes[i + 2]);
    out += kBase64[(n >> 18) & 63];
    out += kBase64[(n >> 12) & 63];
    out += i + 1 < bytes.size() ? kBase64[(n >> 6) & 63] : '=';
    out += i + 2 < bytes.size() ? kBase64[n & 63] : '=';
  }
  return out;
}

// Throws naming `what` for anything but padded base64.
std::string base64_decode(const std::string& text, const std::string& what) {
  if (text.size() % 4 != 0)
    throw TokenizerError(what + ": not base64 (length " + std::to_string(text.size()) +
                         " is not a multiple of 4)");
  size_t pad = 0;
  while (pad < 2 && pad < text.size() && text[text.size() - 1 - pad] == '=') ++pad;
  std::string out;
  out.reserve(text.size() / 4 * 3);
  uint32_t n = 0;
  for (size_t i = 0; i + pad < text.size(); ++i) {
    const char* at = text[i] ? std::strchr(kBase64, text[i]) : nullptr;
    if (!at) throw TokenizerError(what + ": not base64 (character " + std::to_string(i) + ")");
    n = n << 6 | static_cast<uint32_t>(at - kBase64);
    if (i % 4 == 3) {
      out += {static_cast<char>(n >> 16 & 255), static_cast<char>(n >> 8 & 255),
              static_cast<char>(n & 255)};
      n = 0;
    }
  }
  if (pad == 1) out += {static_cast<char>(n >> 10 & 255), static_cast<char>(n >> 2 & 255)};
  if (pad == 2) out += static_cast<char>(n >> 4 & 255);
  return out;
}

// "char, 29 tokens"
std::string describe(const Tokenizer& t) {
  auto index = nlohmann::json::parse(t.files().at(kTokenizerIndex));
  return index.value("type", "?") + ", " + std::to_string(t.vocab_size()) + " tokens";
}

const ag::Tensor* find_tensor(const nn::NamedTensors& tensors, const std::string& name) {
  for (const auto& [n, t] : tensors)
    if (n == name) return &t;
  return nullptr;
}

std::vector<float> bins(const ag::Tensor& t, const std::string& name, const std::string& path) {
  AG_CHECK(t.dim() == 1 && t.dtype() == ag::DType::f32, path, ": tensor '", name,
           "' must be float32 [bins], is ", ag::shape_str(t.shape()));
  return t.to_vector();
}

}  // namespace

nn::SafetensorsFile embed_assets(const Tokenizer& tokenizer, const std::optional<Cmvn>& cmvn) {
  nn::SafetensorsFile f;
  for (const auto& [name, bytes] : tokenizer.files())
    f.metadata[name] = name == kTokenizerIndex ? bytes : base64_encode(bytes);
  if (cmvn) {
    const std::vector<float> mean = cmvn->mean(), stddev = cmvn->stddev();
    f.tensors.emplace_back(kCmvnMean, ag::from_vector(mean, {cmvn->dim()}));
    f.tensors.emplace_back(kCmvnStd, ag::from_vector(stddev, {cmvn->dim()}));
  }
  return f;
}

std::optional<ModelAssets> embedded_assets(const nn::SafetensorsFile& file, const std::string& path) {
  const ag::Tensor* mean = find_tensor(file.tensors, kCmvnMean);
  const ag::Tensor* stddev = find_tensor(file.tensors, kCmvnStd);
  const bool has_tokenizer = file.metadata.count(kTokenizerIndex) > 0;
  if (!has_tokenizer && !mean && !stddev) return std::nullopt;
  AG_CHECK(has_tokenizer, path, ": carries CMVN statistics but no metadata '", kTokenizerIndex,
           "' (a damaged model file?)");
  AG_CHECK(!mean == !stddev, path, ": carries '", mean ? kCmvnMean : kCmvnStd, "' without '",
           mean ? kCmvnStd : kCmvnMean, "'");
  const std::string prefix = path + ": metadata ";
  ModelAssets a;
  a.tokenizer = read_tokenizer(
      [&](const std::string& name) {
        auto it = file.metadata.find(name);
        if (it == file.metadata.end()) throw TokenizerError(prefix + name + ": missing");
        return name == kTokenizerIndex ? it->second : base64_decode(it->second, prefix + name);
      },
      prefix);
  if (mean)
    a.cmvn = Cmvn::from_mean_stddev(bins(*mean, kCmvnMean, path), bins(*stddev, kCmvnStd, path),
                                    path);
  return a;
}

nn::NamedTensors model_weights(const nn::NamedTensors& tensors) {
  nn::NamedTensors out;
  for (const auto& [name, t] : tensors)
    if (name.rfind(kCmvnPrefix, 0) != 0) out.emplace_back(name, t);
  return out;
}

ModelAssets folder_assets(const DataFolder& folder, bool cmvn) {
  ModelAssets a;
  a.tokenizer = load_tokenizer(folder.tokenizer());
  if (cmvn) a.cmvn = Cmvn::load(folder.cmvn());
  return a;
}

ModelAssets checkpoint_assets(const nn::SafetensorsFile& file, const Config& cfg,
                              const std::string& path) {
  if (std::optional<ModelAssets> a = embedded_assets(file, path)) {
    AG_CHECK(a->cmvn.has_value() == cfg.data.cmvn, path, ": carries ",
             a->cmvn ? "CMVN statistics" : "no CMVN statistics", " but data.cmvn is ",
             cfg.data.cmvn ? "true" : "false", " (a model decodes with the normalization it was "
             "trained with)");
    return std::move(*a);
  }
  const DataFolder folder{fs::path(cfg.data.train).parent_path().string()};
  static std::once_flag said;
  std::call_once(said, [&] {
    std::cerr << "note: " << path << " carries no tokenizer or CMVN statistics (written before "
              << "model files embedded them): using those of its training data folder "
              << folder.dir << "\n";
  });
  try {
    return folder_assets(folder, cfg.data.cmvn);
  } catch (const ag::Error& e) {
    throw ag::Error(path + " carries no tokenizer or CMVN statistics (an older model file) and "
                    "its training data folder cannot give them: " + e.what());
  }
}

ModelAssets training_assets(const Config& cfg, const std::string& init) {
  if (init.empty()) return folder_assets({fs::path(cfg.data.train).parent_path().string()}, cfg.data.cmvn);
  ModelAssets a = checkpoint_assets(nn::load_safetensors(init), cfg, init);
  for (const std::string& split : {cfg.data.train, cfg.data.dev})
    check_folder_tokenizer(*a.tokenizer, init, {fs::path(split).parent_path().string()});
  return a;
}

void check_folder_tokenizer(const Tokenizer& tokenizer, const std::string& model,
                            const DataFolder& folder) {
  if (!fs::exists(fs::path(folder.tokenizer()) / kTokenizerIndex)) return;
  std::unique_ptr<Tokenizer> own = load_tokenizer(folder.tokenizer());
  if (own->files() == tokenizer.files()) return;
  const std::string theirs = describe(*own), ours = describe(tokenizer);
  throw TokenizerError("the tokenizer of data folder " + folder.dir + " (" + theirs +
                       ") differs from the one " + model + " was trained with (" + ours +
                       (theirs == ours ? ", other pieces" : "") +
                       "): a model decodes only with its own tokenizer; use a data folder "
                       "prepared with it, or its manifest alone");
}

}  // namespace asr
