// Tokenizers on the real AN4 transcripts: normalization, the fixed character vocabulary,
// sentencepiece BPE and unigram models (exact round trips, save/load, determinism, quiet
// training), and every kind of bad text, bad vocabulary size and bad model folder.
#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <set>
#include <sstream>
#include <thread>

#include "asr/data/tokenizer.h"
#include "common/an4.h"

namespace fs = std::filesystem;
using asr::TokenizerError;

namespace {

// Transcripts of an AN4 split, read from its <speaker>-<chapter>.trans.txt files
// (lines "<id> <TEXT>"), in sorted file order.
std::vector<std::string> an4_texts(const std::string& split) {
  fs::path root = testing::an4_dir() / split;
  std::vector<fs::path> files;
  for (const auto& e : fs::recursive_directory_iterator(root))
    if (e.path().string().ends_with(".trans.txt")) files.push_back(e.path());
  std::sort(files.begin(), files.end());
  std::vector<std::string> texts;
  for (const auto& f : files) {
    std::ifstream in(f);
    for (std::string line; std::getline(in, line);) {
      size_t space = line.find(' ');
      BOOST_REQUIRE_MESSAGE(space != std::string::npos, f.string() << ": line without text");
      texts.push_back(line.substr(space + 1));
    }
  }
  return texts;
}

const std::vector<std::string>& train_texts() {
  static const std::vector<std::string> t = an4_texts("train");
  return t;
}
const std::vector<std::string>& dev_texts() {
  static const std::vector<std::string> t = an4_texts("dev");
  return t;
}

// A scratch folder for this process, removed at exit.
struct TempDir {
  fs::path path = fs::temp_directory_path() / ("asr_tokenizer_test_" + std::to_string(getpid()));
  TempDir() { fs::create_directories(path); }
  ~TempDir() { fs::remove_all(path); }
};

std::string scratch(const std::string& name) {
  static TempDir dir;
  return (dir.path / name).string();
}

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void write_bytes(const std::string& path, const std::string& bytes) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream(path, std::ios::binary) << bytes;
}

// Runs f, which must throw TokenizerError whose message holds every fragment.
template <class F>
void expect_error(F f, std::initializer_list<std::string> fragments) {
  try {
    f();
  } catch (const TokenizerError& e) {
    std::string msg = e.what();
    for (const auto& fragment : fragments)
      BOOST_CHECK_MESSAGE(msg.find(fragment) != std::string::npos,
                          "message '" << msg << "' lacks '" << fragment << "'");
    return;
  }
  BOOST_ERROR("no TokenizerError thrown (expected one mentioning '" << *fragments.begin() << "')");
}

// Every text round trips exactly and its ids are tokens (1..V-1, never sentencepiece's <unk>).
void check_round_trips(const asr::Tokenizer& tok, const std::vector<std::string>& texts) {
  for (const auto& text : texts) {
    std::vector<int64_t> ids = tok.encode(text);
    BOOST_CHECK_EQUAL(tok.decode(ids), asr::normalize_text(text));
    for (int64_t id : ids)
      BOOST_CHECK_MESSAGE(id >= 1 && id < tok.vocab_size() && tok.piece(id) != "<unk>",
                          "id " << id << " of \"" << text << "\"");
  }
}

// Ids of every text, for comparing two tokenizers.
std::vector<std::vector<int64_t>> encode_all(const asr::Tokenizer& tok,
                                             const std::vector<std::string>& texts) {
  std::vector<std::vector<int64_t>> ids;
  for (const auto& t : texts) ids.push_back(tok.encode(t));
  return ids;
}

}  // namespace

BOOST_AUTO_TEST_CASE(normalize_upper_cases_collapses_and_trims) {
  BOOST_TEST(asr::normalize_text("  hello\t  world \r\n") == "HELLO WORLD");
  BOOST_TEST(asr::normalize_text("it's  A\ntest") == "IT'S A TEST");
  BOOST_TEST(asr::normalize_text("") == "");
  BOOST_TEST(asr::normalize_text(" \t\n ") == "");
  BOOST_TEST(asr::normalize_text("café 42") == "CAFé 42");  // only ASCII letters change
  BOOST_TEST(asr::normalize_text("ALREADY NORMAL") == "ALREADY NORMAL");
}

BOOST_AUTO_TEST_CASE(char_vocabulary_is_fixed_with_blank_first) {
  auto tok = asr::train_tokenizer("char", {}, 0, scratch("char_fixed"));
  BOOST_TEST(tok->vocab_size() == 29);
  BOOST_TEST(tok->piece(0) == "<blank>");
  BOOST_TEST(tok->piece(1) == "<space>");
  BOOST_TEST(tok->piece(2) == "'");
  BOOST_TEST(tok->piece(3) == "A");
  BOOST_TEST(tok->piece(28) == "Z");
  std::vector<int64_t> expected = {3 + 'I' - 'A', 2, 3 + 'S' - 'A', 1, 3 + 'A' - 'A'};
  BOOST_TEST(tok->encode(" i's \t a ") == expected, boost::test_tools::per_element());
  BOOST_TEST(tok->encode("").empty());
  BOOST_TEST(tok->decode({}) == "");
}

BOOST_AUTO_TEST_CASE(char_round_trips_every_an4_transcript) {
  auto tok = asr::train_tokenizer("char", train_texts(), 0, scratch("char_an4"));
  BOOST_REQUIRE_EQUAL(train_texts().size(), 848u);
  BOOST_REQUIRE_EQUAL(dev_texts().size(), 100u);
  check_round_trips(*tok, train_texts());
  check_round_trips(*tok, dev_texts());
  // One id per character, and lower case with messy spacing gives the same ids.
  for (const auto& text : dev_texts()) {
    BOOST_TEST(tok->encode(text).size() == asr::normalize_text(text).size());
    std::string messy = "  ";
    for (char c : text) messy += c == ' ' ? std::string("\t  ") : std::string(1, c | 0x20);
    BOOST_TEST(tok->encode(messy) == tok->encode(text), boost::test_tools::per_element());
  }
}

BOOST_AUTO_TEST_CASE(char_refuses_characters_outside_its_vocabulary) {
  auto tok = asr::train_tokenizer("char", {}, 0, scratch("char_errors"));
  expect_error([&] { tok->encode("ROOM 101"); }, {"'1' (U+0031)", "\"ROOM 101\"", "A B C"});
  expect_error([&] { tok->encode("caf\xC3\xA9"); }, {"'\xC3\xA9' (U+00E9)", "\"caf\xC3\xA9\""});
  expect_error([&] { tok->encode("a <unk> b"); }, {"'<' (U+003C)"});
  expect_error([&] { tok->encode("bell\x07"); }, {"(U+0007)"});
  expect_error([&] { tok->encode("bad \xFF byte"); }, {"invalid UTF-8 byte 0xFF"});
  expect_error([&] { tok->decode({3, 0, 4}); }, {"id 0", "blank"});
  expect_error([&] { tok->decode({29}); }, {"id 29", "1..28"});
  expect_error([&] { tok->decode({-1}); }, {"id -1"});
  expect_error([&] { tok->piece(29); }, {"id 29", "[0, 29)"});
  expect_error([&] { tok->piece(-1); }, {"id -1"});
}

BOOST_AUTO_TEST_CASE(char_tokenizer_saves_and_loads) {
  std::string dir = scratch("char_saved");
  auto trained = asr::train_tokenizer("char", {}, 0, dir);
  BOOST_TEST(fs::exists(fs::path(dir) / "tokenizer.json"));
  BOOST_TEST(!fs::exists(fs::path(dir) / "tokenizer.model"));
  auto loaded = asr::load_tokenizer(dir);
  BOOST_TEST(loaded->vocab_size() == trained->vocab_size());
  for (int64_t id = 0; id < trained->vocab_size(); ++id) BOOST_TEST(loaded->piece(id) == trained->piece(id));
  BOOST_TEST(encode_all(*loaded, dev_texts()) == encode_all(*trained, dev_texts()));
}

BOOST_AUTO_TEST_CASE(sentencepiece_round_trips_every_dev_transcript) {
  for (std::string type : {"bpe", "unigram"})
    for (int64_t vocab : {30, 100}) {
      BOOST_TEST_CONTEXT(type << " vocab_size " << vocab) {
        std::string dir = scratch(type + std::to_string(vocab));
        auto tok = asr::train_tokenizer(type, train_texts(), vocab, dir);
        BOOST_TEST(tok->vocab_size() == vocab + 1);  // plus the blank
        BOOST_TEST(tok->piece(0) == "<blank>");
        BOOST_TEST(tok->piece(1) == "<unk>");
        check_round_trips(*tok, dev_texts());
        check_round_trips(*tok, train_texts());
        // Pieces are subwords: with 100 pieces, fewer tokens than characters.
        size_t tokens = 0, chars = 0;
        for (const auto& t : dev_texts()) tokens += tok->encode(t).size(), chars += t.size();
        if (vocab == 100) BOOST_TEST(tokens < chars * 3 / 4);
        // Lower case and messy spacing give the same ids.
        BOOST_TEST(tok->encode("  yes \t no ") == tok->encode("YES NO"), boost::test_tools::per_element());
        BOOST_TEST(tok->encode("").empty());
        expect_error([&] { tok->decode({0}); }, {"id 0", "blank"});
        expect_error([&] { tok->decode({vocab + 1}); }, {"id " + std::to_string(vocab + 1)});
        expect_error([&] { tok->piece(vocab + 1); }, {"outside the vocabulary"});
      }
    }
}

BOOST_AUTO_TEST_CASE(sentencepiece_saves_loads_and_trains_deterministically) {
  for (std::string type : {"bpe", "unigram"}) {
    BOOST_TEST_CONTEXT(type) {
      std::string a = scratch(type + "_a"), b = scratch(type + "_b");
      auto trained = asr::train_tokenizer(type, train_texts(), 60, a);
      asr::train_tokenizer(type, train_texts(), 60, b);
      std::string model = read_bytes(a + "/tokenizer.model");
      BOOST_TEST(!model.empty());
      BOOST_TEST((model == read_bytes(b + "/tokenizer.model")));
      BOOST_TEST(read_bytes(a + "/tokenizer.json") == read_bytes(b + "/tokenizer.json"));
      auto loaded = asr::load_tokenizer(a);
      BOOST_TEST(loaded->vocab_size() == trained->vocab_size());
      for (int64_t id = 0; id < trained->vocab_size(); ++id)
        BOOST_TEST(loaded->piece(id) == trained->piece(id));
      BOOST_TEST(encode_all(*loaded, dev_texts()) == encode_all(*trained, dev_texts()));
      BOOST_TEST(encode_all(*loaded, train_texts()) == encode_all(*trained, train_texts()));
    }
  }
  // The two kinds really differ.
  BOOST_TEST(read_bytes(scratch("bpe_a") + "/tokenizer.model") !=
             read_bytes(scratch("unigram_a") + "/tokenizer.model"));
}

BOOST_AUTO_TEST_CASE(encode_from_several_threads_matches_serial) {
  for (std::string type : {"char", "unigram"}) {
    auto tok = asr::train_tokenizer(type, train_texts(), 80, scratch("threads_" + type));
    auto serial = encode_all(*tok, train_texts());
    std::vector<std::vector<std::vector<int64_t>>> results(4);
    std::vector<std::thread> threads;
    for (auto& r : results) threads.emplace_back([&] { r = encode_all(*tok, train_texts()); });
    for (auto& t : threads) t.join();
    for (const auto& r : results) BOOST_TEST((r == serial));
  }
}

BOOST_AUTO_TEST_CASE(sentencepiece_training_is_quiet) {
  std::string log = scratch("stderr.txt");
  std::fflush(stderr);
  int saved = dup(2);
  BOOST_REQUIRE(saved >= 0);
  BOOST_REQUIRE(std::freopen(log.c_str(), "w", stderr) != nullptr);
  std::string error;
  try {
    asr::train_tokenizer("unigram", train_texts(), 50, scratch("quiet_unigram"));
    asr::train_tokenizer("bpe", train_texts(), 50, scratch("quiet_bpe"));
    asr::load_tokenizer(scratch("quiet_bpe"))->encode("HELLO");
  } catch (const std::exception& e) {
    error = e.what();
  }
  std::fflush(stderr);
  dup2(saved, 2);
  close(saved);
  BOOST_TEST(error == "");
  BOOST_TEST(read_bytes(log) == "");
}

BOOST_AUTO_TEST_CASE(sentencepiece_refuses_unseen_characters) {
  auto tok = asr::train_tokenizer("bpe", train_texts(), 40, scratch("unseen"));
  expect_error([&] { tok->encode("ROOM 101"); }, {"'1' (U+0031)", "\"ROOM 101\"", "unseen"});
  expect_error([&] { tok->encode("a-b \xC3\xA9 1-2"); },
               {"unseen in the tokenizer's training text: '-' (U+002D), '\xC3\xA9' (U+00E9), '1' (U+0031), "
                "'2' (U+0032)"});
  // A model trained on text with digits knows them.
  std::vector<std::string> texts = train_texts();
  texts.push_back("ROOM 101");
  auto digits = asr::train_tokenizer("bpe", texts, 40, scratch("digits"));
  BOOST_TEST(digits->decode(digits->encode("room 110")) == "ROOM 110");
}

BOOST_AUTO_TEST_CASE(bad_training_requests_fail_clearly) {
  std::string dir = scratch("too_large");
  expect_error([&] { asr::train_tokenizer("bpe", train_texts(), 5000, dir); },
               {"sentencepiece bpe training", "vocab_size 5000", "Vocabulary size too high"});
  expect_error([&] { asr::train_tokenizer("unigram", train_texts(), 5000, dir); },
               {"sentencepiece unigram training", "Vocabulary size too high"});
  expect_error([&] { asr::train_tokenizer("unigram", train_texts(), 10, dir); },
               {"vocab_size 10", "required_chars"});
  BOOST_TEST(!fs::exists(dir));  // nothing written on failure
  expect_error([&] { asr::train_tokenizer("bpe", {"", "  "}, 30, dir); }, {"no non-empty training text"});
  expect_error([&] { asr::train_tokenizer("word", train_texts(), 30, dir); },
               {"'word'", "char, bpe, unigram"});
}

BOOST_AUTO_TEST_CASE(bad_model_folders_fail_naming_the_file) {
  std::string missing = scratch("nothing_here");
  expect_error([&] { asr::load_tokenizer(missing); }, {missing + "/tokenizer.json", "cannot open"});

  auto bad_index = [](const std::string& name, const std::string& json,
                      std::initializer_list<std::string> fragments) {
    std::string dir = scratch(name);
    write_bytes(dir + "/tokenizer.json", json);
    BOOST_TEST_CONTEXT(name) {
      expect_error([&] { asr::load_tokenizer(dir); }, {dir + "/tokenizer.json"});
      expect_error([&] { asr::load_tokenizer(dir); }, fragments);
    }
  };
  bad_index("not_json", "{\"type\": \"char\", ", {"not a JSON object"});
  bad_index("json_array", "[1, 2]", {"not a JSON object"});
  bad_index("no_type", "{}", {"'type'"});
  bad_index("bad_type", "{\"type\": \"word\"}", {"'word'"});
  bad_index("no_pieces", "{\"type\": \"char\"}", {"'pieces'"});
  bad_index("number_piece", "{\"type\": \"char\", \"pieces\": [\"<blank>\", 3]}", {"non-string"});
  bad_index("no_blank", "{\"type\": \"char\", \"pieces\": [\"A\", \"B\"]}", {"<blank>"});
  bad_index("long_piece", "{\"type\": \"char\", \"pieces\": [\"<blank>\", \"AB\"]}", {"\"AB\""});
  bad_index("twice", "{\"type\": \"char\", \"pieces\": [\"<blank>\", \"A\", \"B\", \"A\"]}",
            {"appears twice", "ids 1 and 3"});
  bad_index("no_model_key", "{\"type\": \"bpe\", \"vocab_size\": 31}", {"'model'"});

  // Sentencepiece folders: model missing, corrupt, or not matching the index.
  std::string good = scratch("good_bpe");
  asr::train_tokenizer("bpe", train_texts(), 30, good);
  std::string index = read_bytes(good + "/tokenizer.json");
  std::string model = read_bytes(good + "/tokenizer.model");

  std::string no_model = scratch("no_model");
  write_bytes(no_model + "/tokenizer.json", index);
  expect_error([&] { asr::load_tokenizer(no_model); }, {no_model + "/tokenizer.model", "cannot open"});

  std::string corrupt = scratch("corrupt_model");
  write_bytes(corrupt + "/tokenizer.json", index);
  write_bytes(corrupt + "/tokenizer.model", "this is not a protobuf\xff\xff\xff");
  expect_error([&] { asr::load_tokenizer(corrupt); },
               {corrupt + "/tokenizer.model", "not a sentencepiece model"});

  std::string truncated = scratch("truncated_model");
  write_bytes(truncated + "/tokenizer.json", index);
  write_bytes(truncated + "/tokenizer.model", model.substr(0, model.size() / 2));
  expect_error([&] { asr::load_tokenizer(truncated); }, {truncated + "/tokenizer.model"});

  std::string mismatch = scratch("mismatch");
  write_bytes(mismatch + "/tokenizer.json", "{\"type\": \"bpe\", \"model\": \"tokenizer.model\", \"vocab_size\": 99}");
  write_bytes(mismatch + "/tokenizer.model", model);
  expect_error([&] { asr::load_tokenizer(mismatch); },
               {mismatch + "/tokenizer.model", "31 tokens", "says 99"});
}

BOOST_AUTO_TEST_CASE(a_model_that_breaks_sentencepiece_is_refused) {
  // fuzz_tokenizer's finding: tokenizer.json, NUL, a sentencepiece model that parses but holds
  // a zero-length piece, on which sentencepiece's index (Darts) throws its own exception.
  std::ifstream in(LATENTASR_SOURCE_DIR "/tests/fuzz/corpus/tokenizer/regress_empty_piece",
                   std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const size_t nul = bytes.find('\0');
  BOOST_REQUIRE(nul != std::string::npos);
  const std::string index = bytes.substr(0, nul), model = bytes.substr(nul + 1);
  expect_error(
      [&] {
        asr::read_tokenizer(
            [&](const std::string& name) { return name == asr::kTokenizerIndex ? index : model; },
            "regress/");
      },
      {"regress/", "not a usable sentencepiece model", "zero-length key"});
}
