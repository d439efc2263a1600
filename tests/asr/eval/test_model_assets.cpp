// The tokenizer and CMVN statistics inside model files (asr/data/model_assets.h): round trips
// of either tokenizer kind and of the normalization (bit for bit), damaged parts, older files
// falling back to their data folder, tokenizer mismatches; what --data accepts
// (asr/eval/eval_data.h).
#include <unistd.h>
#include <boost/test/unit_test.hpp>

#include <filesystem>
#include <fstream>
#include <set>

#include "asr/data/model_assets.h"
#include "asr/eval/eval_data.h"
#include "autograd/random.h"
#include "common/an4.h"
#include "common/gradcheck.h"

namespace fs = std::filesystem;

namespace {

fs::path scratch(const std::string& name) {
  fs::path p = fs::temp_directory_path() /
               ("latentasr_assets_" + std::to_string(getpid())) / name;
  fs::remove_all(p);
  fs::create_directories(p);
  return p;
}

// Statistics of random features with a wide spread of means and deviations, and one constant
// bin (its deviation floored).
asr::Cmvn statistics(int64_t bins) {
  ag::manual_seed(5);
  asr::Cmvn c;
  for (int u = 0; u < 3; ++u) {
    ag::Tensor x = ag::normal({50, bins});
    float* p = x.data();
    for (int64_t t = 0; t < 50; ++t)
      for (int64_t f = 0; f < bins; ++f)
        p[t * bins + f] = f == 0 ? -15.94f : p[t * bins + f] * (0.1f + f) + 3.0f * f - 10.0f;
    c.add(x);
  }
  return c;
}

// Writes a model file holding one weight and the embedded parts; returns it read back.
nn::SafetensorsFile round_trip(const nn::SafetensorsFile& embedded, const fs::path& path) {
  nn::NamedTensors tensors = {{"ctc.ctc_lo.weight", ag::zeros({3, 2})}};
  tensors.insert(tensors.end(), embedded.tensors.begin(), embedded.tensors.end());
  nn::save_safetensors(path.string(), tensors, embedded.metadata);
  return nn::load_safetensors(path.string());
}

std::vector<std::string> texts() {
  return {"TWO SIX EIGHT", "ENTER FIVE", "ERASE C Q", "RUBOUT T", "GO TWO NINE",
          "YES", "NO", "STOP", "ONE TWO THREE FOUR FIVE SIX SEVEN EIGHT NINE ZERO",
          "H E L L O", "APOSTROPHE'S", "REPEAT", "START THE SEQUENCE AGAIN"};
}

}  // namespace

BOOST_AUTO_TEST_CASE(char_tokenizer_and_cmvn_round_trip_exactly) {
  fs::path dir = scratch("char");
  auto tok = asr::train_tokenizer("char", {}, 0, (dir / "tokenizer").string());
  asr::Cmvn cmvn = statistics(6);
  nn::SafetensorsFile f = round_trip(asr::embed_assets(*tok, cmvn), dir / "m.safetensors");
  BOOST_CHECK(f.metadata.count("tokenizer.json"));
  BOOST_CHECK(!f.metadata.count("tokenizer.model"));
  std::optional<asr::ModelAssets> a = asr::embedded_assets(f, "m.safetensors");
  BOOST_REQUIRE(a && a->cmvn);
  BOOST_CHECK(a->tokenizer->files() == tok->files());
  BOOST_CHECK_EQUAL(a->tokenizer->decode(a->tokenizer->encode("it's two")), "IT'S TWO");
  // The normalization applies bit for bit as the statistics it came from.
  ag::Tensor x = ag::mul(ag::normal({40, 6}), 20.0f);
  BOOST_TEST(a->cmvn->apply(x).to_vector() == cmvn.apply(x).to_vector());
  BOOST_TEST(a->cmvn->mean() == cmvn.mean());
  BOOST_TEST(a->cmvn->stddev() == cmvn.stddev());
  BOOST_CHECK_EQUAL(cmvn.stddev()[0], 1e-5f);
  // The model's weights alone load into the model.
  nn::NamedTensors w = asr::model_weights(f.tensors);
  BOOST_REQUIRE_EQUAL(w.size(), 1u);
  BOOST_CHECK_EQUAL(w[0].first, "ctc.ctc_lo.weight");
  // It applies; it does not accumulate or save.
  testing::check_error([&] { a->cmvn->add(x); }, "holds no sums");
  testing::check_error([&] { a->cmvn->save((dir / "c.json").string()); }, "has no sums");
}

BOOST_AUTO_TEST_CASE(sentencepiece_model_travels_as_base64) {
  for (const char* type : {"bpe", "unigram"}) {
    fs::path dir = scratch(type);
    auto tok = asr::train_tokenizer(type, texts(), 30, (dir / "tokenizer").string());
    nn::SafetensorsFile f = round_trip(asr::embed_assets(*tok, std::nullopt), dir / "m.safetensors");
    BOOST_REQUIRE(f.metadata.count("tokenizer.model"));
    BOOST_CHECK(f.metadata.at("tokenizer.model").find_first_not_of(
                    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=") ==
                std::string::npos);
    std::optional<asr::ModelAssets> a = asr::embedded_assets(f, "m.safetensors");
    BOOST_REQUIRE(a);
    BOOST_CHECK(!a->cmvn);
    BOOST_CHECK(a->tokenizer->files() == tok->files());
    std::ifstream in(dir / "tokenizer" / "tokenizer.model", std::ios::binary);
    std::string on_disk((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    BOOST_CHECK(a->tokenizer->files().at("tokenizer.model") == on_disk);
    BOOST_TEST(a->tokenizer->encode("STOP THE SEQUENCE") == tok->encode("STOP THE SEQUENCE"));
  }
}

BOOST_AUTO_TEST_CASE(base64_round_trips_every_padding) {
  // Models of several sizes: their lengths modulo 3 cover no padding, one '=' and two.
  std::set<size_t> remainders;
  for (int64_t vocab = 26; vocab <= 40 && remainders.size() < 3; ++vocab) {
    fs::path dir = scratch("pad" + std::to_string(vocab));
    auto tok = asr::train_tokenizer("bpe", texts(), vocab, (dir / "tokenizer").string());
    remainders.insert(tok->files().at("tokenizer.model").size() % 3);
    auto a = asr::embedded_assets(asr::embed_assets(*tok, std::nullopt), "m");
    BOOST_REQUIRE(a);
    BOOST_CHECK(a->tokenizer->files() == tok->files());
  }
  BOOST_CHECK_EQUAL(remainders.size(), 3u);
}

BOOST_AUTO_TEST_CASE(damaged_parts_name_the_file) {
  fs::path dir = scratch("damaged");
  auto tok = asr::train_tokenizer("bpe", texts(), 30, (dir / "tokenizer").string());
  nn::SafetensorsFile good = asr::embed_assets(*tok, statistics(4));
  auto error = [&](nn::SafetensorsFile f, const std::string& part) {
    testing::check_error([&] { asr::embedded_assets(f, "x.safetensors"); }, part);
  };
  nn::SafetensorsFile f = good;
  f.metadata["tokenizer.model"] = "abc";
  error(f, "x.safetensors: metadata tokenizer.model: not base64 (length 3");
  f.metadata["tokenizer.model"] = "ab=c";
  error(f, "x.safetensors: metadata tokenizer.model: not base64 (character 2)");
  f.metadata["tokenizer.model"] = "aGVsbG8=";  // "hello"
  error(f, "x.safetensors: metadata tokenizer.model: not a sentencepiece model");
  f = good;
  f.metadata.erase("tokenizer.model");
  error(f, "x.safetensors: metadata tokenizer.model: missing");
  f = good;
  f.metadata["tokenizer.json"] = "[1]";
  error(f, "x.safetensors: metadata tokenizer.json: not a JSON object");
  f = good;
  f.metadata.erase("tokenizer.json");
  error(f, "carries CMVN statistics but no metadata 'tokenizer.json'");
  f = good;
  f.tensors.pop_back();
  error(f, "carries 'cmvn.mean' without 'cmvn.std'");
  f = good;
  f.tensors.back().second = ag::zeros({4, 1});
  error(f, "tensor 'cmvn.std' must be float32 [bins]");
  f = good;
  f.tensors.back().second = ag::zeros({4});
  error(f, "x.safetensors: CMVN bin 0 has a bad mean");
  BOOST_CHECK(!asr::embedded_assets({}, "old.safetensors"));
}

BOOST_AUTO_TEST_CASE(older_files_use_their_training_data_folder) {
  fs::path root = scratch("older");
  asr::DataFolder folder{(root / "data").string()};
  auto tok = asr::train_tokenizer("char", {}, 0, folder.tokenizer());
  statistics(4).save(folder.cmvn());
  asr::Config cfg;
  cfg.data.train = folder.dir + "/train";
  nn::SafetensorsFile old;  // no embedded parts
  asr::ModelAssets a = asr::checkpoint_assets(old, cfg, "old.safetensors");
  BOOST_CHECK(a.tokenizer->files() == tok->files());
  BOOST_REQUIRE(a.cmvn);
  BOOST_TEST(a.cmvn->mean() == statistics(4).mean());
  cfg.data.train = (root / "gone" / "train").string();
  testing::check_error([&] { asr::checkpoint_assets(old, cfg, "old.safetensors"); },
                       "old.safetensors carries no tokenizer or CMVN statistics (an older model "
                       "file) and its training data folder cannot give them");
  // Embedded parts win over the folder, and must agree with data.cmvn.
  nn::SafetensorsFile f = asr::embed_assets(*tok, std::nullopt);
  cfg.data.train = folder.dir + "/train";
  testing::check_error([&] { asr::checkpoint_assets(f, cfg, "new.safetensors"); },
                       "new.safetensors: carries no CMVN statistics but data.cmvn is true");
  cfg.data.cmvn = false;
  BOOST_CHECK(!asr::checkpoint_assets(f, cfg, "new.safetensors").cmvn);
}

BOOST_AUTO_TEST_CASE(a_data_folder_with_another_tokenizer_is_refused) {
  fs::path root = scratch("mismatch");
  auto chars = asr::train_tokenizer("char", {}, 0, (root / "a" / "tokenizer").string());
  auto bpe = asr::train_tokenizer("bpe", texts(), 30, (root / "b" / "tokenizer").string());
  asr::check_folder_tokenizer(*chars, "m.safetensors", {(root / "a").string()});
  asr::check_folder_tokenizer(*chars, "m.safetensors", {(root / "none").string()});
  testing::check_error(
      [&] { asr::check_folder_tokenizer(*chars, "m.safetensors", {(root / "b").string()}); },
      "the tokenizer of data folder " + (root / "b").string() +
          " (bpe, 31 tokens) differs from the one m.safetensors was trained with (char, 29 "
          "tokens)");
  // Same kind and size, other pieces.
  auto other = asr::train_tokenizer("bpe", {"A B C D E F G H I J K L M N O P Q R S T U V W X Y Z"},
                                    30, (root / "c" / "tokenizer").string());
  testing::check_error(
      [&] { asr::check_folder_tokenizer(*bpe, "m.safetensors", {(root / "c").string()}); },
      "(bpe, 31 tokens, other pieces)");
}

BOOST_AUTO_TEST_CASE(data_argument_forms) {
  fs::path root = scratch("data_forms");
  fs::create_directories(root / "ted" / "stm");
  fs::create_directories(root / "ted" / "sph");
  fs::create_directories(root / "libri" / "19" / "198");
  std::ofstream(root / "libri" / "19" / "198" / "19-198.trans.txt") << "19-198-0000 HELLO\n";
  fs::create_directories(root / "empty");
  // A Kaldi data directory: wav.scp and text (one without the other is none).
  fs::create_directories(root / "kaldi");
  fs::create_directories(root / "kaldi_text_only");
  const fs::path flac = testing::an4_dir() / "dev" / "1001" / "1" / "1001-1-0251.flac";
  std::ofstream(root / "kaldi" / "wav.scp") << "rec1 " << flac.string() << "\n";
  std::ofstream(root / "kaldi" / "text") << "rec1 yes\n";
  std::ofstream(root / "kaldi_text_only" / "text") << "rec1 yes\n";
  BOOST_CHECK_EQUAL(asr::corpus_layout((root / "ted").string()), "tedlium");
  BOOST_CHECK_EQUAL(asr::corpus_layout((root / "libri").string()), "librispeech");
  BOOST_CHECK_EQUAL(asr::corpus_layout((root / "kaldi").string()), "kaldi");
  BOOST_CHECK_EQUAL(asr::corpus_layout((root / "kaldi_text_only").string()), "");
  BOOST_CHECK_EQUAL(asr::corpus_layout((root / "empty").string()), "");
  {
    const asr::DataManifest kaldi((root / "kaldi").string(), "--data", "");
    BOOST_TEST(kaldi.temporary());
    std::ifstream in(kaldi.path());
    std::string line;
    BOOST_REQUIRE(std::getline(in, line));
    BOOST_TEST(line.find("\"rec1\"") != std::string::npos, line);
    BOOST_TEST(!std::getline(in, line));
  }
  std::ofstream(root / "x.jsonl") << "";
  BOOST_CHECK_EQUAL(asr::DataManifest((root / "x.jsonl").string(), "--data", "").path(),
                    (root / "x.jsonl").string());
  BOOST_CHECK_EQUAL(asr::DataManifest((root / "x").string(), "--data", "").path(),
                    (root / "x.jsonl").string());
  testing::check_error([&] { asr::DataManifest((root / "empty").string(), "--data", ""); },
                       "--data " + (root / "empty").string() + ": no data there");
}
