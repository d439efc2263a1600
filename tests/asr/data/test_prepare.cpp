// asr-prepare end to end: a data folder from a mini AN4 and from the TED-LIUM fixture, a
// single manifest, --dump-features (the .npy header parsed here), every error exit; and
// compute_cmvn's independence from the thread count.
#include <sys/wait.h>

#include <boost/test/unit_test.hpp>
#include <cstdlib>
#include <cstring>

#include "asr/data/audio.h"
#include "asr/data/fbank.h"
#include "asr/data/manifest.h"
#include "asr/data/prepare.h"
#include "asr/data/tokenizer.h"
#include "asr/data/corpus_testing.h"

using namespace asr;
using namespace testing;

namespace {

struct Run {
  int rc;
  std::string err;  // stderr
};

// Runs build/bin/asr-prepare with `args`; returns its exit code and stderr.
Run prepare(const std::string& args, const fs::path& tmp) {
  fs::path err = tmp / "stderr.txt";
  std::string cmd = std::string(LATENTASR_BINARY_DIR) + "/bin/asr-prepare " + args +
                    " > /dev/null 2> " + err.string();
  int status = std::system(cmd.c_str());
  BOOST_REQUIRE_MESSAGE(WIFEXITED(status), "asr-prepare did not exit: " + cmd);
  std::ifstream in(err);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return {WEXITSTATUS(status), text};
}

bool has(const std::string& text, const std::string& part) {
  bool found = text.find(part) != std::string::npos;
  if (!found) BOOST_TEST_MESSAGE("'" << part << "' not in: " << text);
  return found;
}

Cmvn cmvn_by_hand(const std::vector<Utterance>& utts) {
  Fbank fbank;
  Cmvn c;
  for (const Utterance& u : utts)
    c.add(fbank.compute(read_audio(u.audio, kSampleRate, u.start, u.end)));
  return c;
}

}  // namespace

BOOST_AUTO_TEST_CASE(prepares_a_data_folder_from_an4) {
  TempDir tmp("prep_an4");
  make_mini_an4(tmp.path / "an4", {"1011", "1012"}, {"1001"});
  fs::path out = tmp.path / "data";
  Run r = prepare("--corpus " + (tmp.path / "an4").string() + " --layout librispeech --out " +
                      out.string() + " --threads 2",
                  tmp.path);
  BOOST_REQUIRE_MESSAGE(r.rc == 0, r.err);
  BOOST_CHECK(has(r.err, "train: 26 utterances"));
  BOOST_CHECK(has(r.err, "dev: 9 utterances"));
  BOOST_CHECK(has(r.err, "cmvn (train): 26/26 (100%)"));  // progress

  DataFolder folder{out.string()};
  std::vector<Utterance> train = read_manifest(resolve_manifest((out / "train").string()));
  std::vector<Utterance> dev = read_manifest(folder.manifest("dev"));
  BOOST_REQUIRE_EQUAL(train.size(), 26u);
  BOOST_REQUIRE_EQUAL(dev.size(), 9u);
  BOOST_CHECK_EQUAL(train[0].key, "1011-1-0311");
  BOOST_CHECK_EQUAL(train[0].text, "ERASE I S L F THIRTY EIGHT");
  BOOST_CHECK(fs::path(train[0].audio).is_absolute());
  BOOST_CHECK(fs::equivalent(train[0].audio, an4_flac("train", "1011-1-0311")));
  BOOST_CHECK_CLOSE(train[0].duration, 3.1, 1e-6);

  Cmvn saved = Cmvn::load(folder.cmvn());
  Cmvn want = cmvn_by_hand(train);
  BOOST_CHECK_EQUAL(saved.frames(), want.frames());
  BOOST_CHECK(saved.mean() == want.mean());
  BOOST_CHECK(saved.stddev() == want.stddev());
  std::unique_ptr<Tokenizer> tok = load_tokenizer(folder.tokenizer());
  BOOST_CHECK_EQUAL(tok->vocab_size(), 29);
  BOOST_CHECK_EQUAL(tok->decode(tok->encode(dev[0].text)), dev[0].text);
}

BOOST_AUTO_TEST_CASE(prepares_the_tedlium_fixture) {
  TempDir tmp("prep_ted");
  make_tedlium_fixture(tmp.path / "ted");
  std::string corpus = "--corpus " + (tmp.path / "ted").string() + " --layout tedlium --out ";
  Run drop = prepare(corpus + (tmp.path / "drop").string(), tmp.path);
  BOOST_REQUIRE_MESSAGE(drop.rc == 0, drop.err);
  BOOST_CHECK(has(drop.err, "train: 5 utterances"));
  BOOST_CHECK(has(drop.err, "dev: 3 utterances"));
  BOOST_CHECK(
      has(drop.err,
          "train: skipped 3 utterances:\n  1 empty transcript (e.g. TalkB_2011-0000870-0000980)"));
  BOOST_CHECK(has(drop.err, "  2 ignored segment (e.g. TalkA_2010-0000000-0000050)"));
  std::vector<Utterance> train = read_manifest((tmp.path / "drop" / "train.jsonl").string());
  BOOST_REQUIRE_EQUAL(train.size(), 5u);
  BOOST_CHECK_EQUAL(train[0].text, "IT'S ERASE I S L F THIRTY EIGHT");
  BOOST_CHECK_EQUAL(train[0].start, 0.5);
  Cmvn saved = Cmvn::load((tmp.path / "drop" / "cmvn.json").string());
  BOOST_CHECK_EQUAL(saved.frames(), cmvn_by_hand(train).frames());

  // <unk> kept: the character tokenizer cannot spell it, so those segments go.
  Run keep = prepare(corpus + (tmp.path / "keep").string() + " --unk keep", tmp.path);
  BOOST_REQUIRE_MESSAGE(keep.rc == 0, keep.err);
  BOOST_CHECK(has(keep.err, "train: 4 utterances"));
  BOOST_CHECK(has(keep.err, "  2 text outside the tokenizer (e.g. TalkA_2010-"));

  // A single manifest of one split, no tokenizer or statistics.
  fs::path m = tmp.path / "dev_only.jsonl";
  Run one = prepare("--corpus " + (tmp.path / "ted" / "dev").string() +
                        " --layout tedlium --manifest " + m.string(),
                    tmp.path);
  BOOST_REQUIRE_MESSAGE(one.rc == 0, one.err);
  BOOST_CHECK(has(one.err, "3 utterances -> " + m.string()));
  BOOST_CHECK_EQUAL(read_manifest(m.string()).size(), 3u);
}

BOOST_AUTO_TEST_CASE(dump_features_writes_a_readable_npy) {
  TempDir tmp("prep_npy");
  fs::path flac = an4_flac("dev", "1001-1-0251");
  fs::path npy = tmp.path / "f.npy";
  Run r = prepare("--dump-features " + flac.string() + " " + npy.string(), tmp.path);
  BOOST_REQUIRE_MESSAGE(r.rc == 0, r.err);
  std::ifstream in(npy, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  BOOST_REQUIRE_GT(bytes.size(), 10u);
  BOOST_CHECK_EQUAL(bytes.substr(0, 6), "\x93NUMPY");
  BOOST_CHECK_EQUAL(bytes[6], 1);  // version 1.0
  BOOST_CHECK_EQUAL(bytes[7], 0);
  size_t header_len = static_cast<unsigned char>(bytes[8]) | static_cast<unsigned char>(bytes[9])
                                                                 << 8;
  BOOST_CHECK_EQUAL((10 + header_len) % 16, 0u);  // data aligned as numpy writes it
  std::string header = bytes.substr(10, header_len);
  ag::Tensor want = Fbank().compute(read_audio(flac.string()));  // [T, 80]
  BOOST_CHECK(has(header, "'descr': '<f4'"));
  BOOST_CHECK(has(header, "'fortran_order': False"));
  BOOST_CHECK(has(header, "'shape': (" + std::to_string(want.size(0)) + ", 80)"));
  BOOST_REQUIRE_EQUAL(bytes.size() - 10 - header_len, want.numel() * sizeof(float));
  BOOST_CHECK(
      std::memcmp(bytes.data() + 10 + header_len, want.data(), want.numel() * sizeof(float)) == 0);
}

BOOST_AUTO_TEST_CASE(error_exits_say_what_is_wrong) {
  TempDir tmp("prep_err");
  make_tedlium_fixture(tmp.path / "ted");
  std::string nowhere = (tmp.path / "nowhere").string();
  std::string out = " --out " + (tmp.path / "out").string();

  Run r = prepare("--corpus " + nowhere + " --layout librispeech" + out, tmp.path);
  BOOST_CHECK_EQUAL(r.rc, 1);
  BOOST_CHECK(has(r.err, "asr-prepare: error: " + nowhere + ": corpus folder not found"));

  r = prepare("--corpus " + (tmp.path / "ted").string() + " --layout librispeech" + out, tmp.path);
  BOOST_CHECK_EQUAL(r.rc, 1);
  BOOST_CHECK(has(r.err, "no LibriSpeech transcripts"));

  r = prepare(
      "--corpus " + (tmp.path / "ted").string() + " --layout tedlium --train-split nope" + out,
      tmp.path);
  BOOST_CHECK_EQUAL(r.rc, 1);
  BOOST_CHECK(has(r.err, "nope: corpus folder not found"));

  r = prepare("--corpus " + (tmp.path / "ted").string() +
                  " --layout tedlium --tokenizer bpe --vocab-size 5000" + out,
              tmp.path);
  BOOST_CHECK_EQUAL(r.rc, 1);
  BOOST_CHECK(has(r.err, "vocab_size 5000"));

  r = prepare("--corpus " + (tmp.path / "ted").string() + " --layout kaldi" + out, tmp.path);
  BOOST_CHECK_EQUAL(r.rc, 1);
  BOOST_CHECK(has(r.err, "train/wav.scp: not found"));

  r = prepare("--corpus " + (tmp.path / "ted").string() + " --layout sphinx" + out, tmp.path);
  BOOST_CHECK_NE(r.rc, 0);
  BOOST_CHECK(has(r.err, "--layout"));

  r = prepare("--corpus " + (tmp.path / "ted").string() + " --layout tedlium --unk maybe" + out,
              tmp.path);
  BOOST_CHECK_NE(r.rc, 0);
  BOOST_CHECK(has(r.err, "--unk"));

  r = prepare(
      "--corpus " + (tmp.path / "ted").string() + " --layout tedlium" + out + " --manifest m.jsonl",
      tmp.path);
  BOOST_CHECK_NE(r.rc, 0);
  BOOST_CHECK(has(r.err, "excludes"));

  r = prepare("--layout tedlium" + out, tmp.path);
  BOOST_CHECK_EQUAL(r.rc, 1);
  BOOST_CHECK(has(r.err, "need --corpus DIR --layout L"));

  r = prepare("--dump-features " + nowhere + ".flac " + (tmp.path / "x.npy").string(), tmp.path);
  BOOST_CHECK_EQUAL(r.rc, 1);
  BOOST_CHECK(has(r.err, nowhere + ".flac"));
  BOOST_CHECK(!fs::exists(tmp.path / "x.npy"));

  r = prepare(
      "--dump-features " + an4_flac("dev", "1001-1-0251").string() + " " + nowhere + "/x.npy",
      tmp.path);
  BOOST_CHECK_EQUAL(r.rc, 1);
  BOOST_CHECK(has(r.err, nowhere + "/x.npy"));
}

BOOST_AUTO_TEST_CASE(cmvn_does_not_depend_on_the_thread_count) {
  TempDir tmp("prep_cmvn");
  SkipCounts read_skips;
  std::vector<Utterance> utts = read_librispeech((an4_dir() / "dev").string(), read_skips);
  utts.resize(16);
  write_pcm(tmp.path / "short.wav", std::vector<short>(800, 3));
  utts.push_back({"short", (tmp.path / "short.wav").string(), "A", 0, -1, 0.05});
  utts.push_back({"gone", (tmp.path / "gone.wav").string(), "A", 0, -1, 1});
  utts.insert(utts.begin() + 3, {"corrupt", (tmp.path / "short.wav").string(), "A", 5, 6, 1});
  std::vector<Utterance> one = utts, four = utts;
  SkipCounts s1, s4;
  Cmvn c1 = compute_cmvn(one, 1, s1), c4 = compute_cmvn(four, 4, s4);
  BOOST_CHECK_EQUAL(one.size(), 16u);
  BOOST_CHECK_EQUAL(four.size(), 16u);
  BOOST_CHECK_EQUAL(s4.count(SkipReason::too_short), 1);
  BOOST_CHECK_EQUAL(s4.count(SkipReason::missing_audio), 1);
  BOOST_CHECK_EQUAL(s4.count(SkipReason::bad_audio), 1);
  BOOST_CHECK_EQUAL(c1.frames(), c4.frames());
  BOOST_CHECK(c1.mean() == c4.mean());
  BOOST_CHECK(c1.stddev() == c4.stddev());
  utts.erase(utts.begin() + 3);
  utts.resize(16);
  BOOST_CHECK(c4.mean() == cmvn_by_hand(utts).mean());
}
