// MP3 (and the other formats libsndfile reads) wherever a corpus names audio: durations from
// libsndfile's frame count against the decoded length, segments, an MP3 without a length tag,
// a LibriSpeech-layout corpus of MP3 files read end to end (made here from AN4; also the real
// MP3 LibriSpeech copy in ../shared/data/libri-mp3 or $LATENTASR_LIBRI_MP3 when present).
#include <boost/test/unit_test.hpp>
#include <cmath>
#include <cstdlib>
#include <fstream>

#include "asr/data/audio.h"
#include "asr/data/corpus.h"
#include "asr/data/corpus_testing.h"

using namespace asr;
using namespace testing;

namespace {

// libsndfile writes a Xing/Info tag with the encoder delay and padding, so an MP3's length
// comes back to the sample; the tolerance allowed for it is 10 ms.
constexpr double kMp3DurationTolerance = 0.01;

std::string read_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

std::vector<float> an4_samples(const std::string& split, const std::string& id) {
  return read_audio(an4_flac(split, id).string());
}

}  // namespace

BOOST_AUTO_TEST_CASE(mp3_duration_matches_what_decodes) {
  TempDir tmp("mp3");
  std::vector<float> x = an4_samples("train", "1011-1-0312");  // 3.9 s
  std::string mp3 = (tmp.path / "a.mp3").string();
  write_audio(mp3, x, kSampleRate);
  BOOST_TEST(read_bytes(mp3).find("Xing") != std::string::npos);
  std::vector<float> y = read_audio(mp3);
  double duration = audio_duration(mp3);
  BOOST_TEST(duration * kSampleRate == static_cast<double>(y.size()));
  BOOST_TEST(std::abs(duration - x.size() / double(kSampleRate)) <= kMp3DurationTolerance);
  // Lossy, but the same speech: the decoded samples follow the source closely.
  double err = 0, energy = 0;
  for (size_t i = 0; i < std::min(x.size(), y.size()); ++i) {
    err += (x[i] - y[i]) * (x[i] - y[i]);
    energy += x[i] * x[i];
  }
  BOOST_TEST(err < 0.1 * energy, "MP3 error energy " << err << " of " << energy);
  // A segment is the same samples as that part of the whole file's decode, to the sample.
  BOOST_TEST(read_audio(mp3, kSampleRate, 1.0, 1.5) ==
                 std::vector<float>(y.begin() + 16000, y.begin() + 24000),
             boost::test_tools::per_element());
  BOOST_TEST(read_audio(mp3, kSampleRate, 2.5) ==
                 std::vector<float>(y.begin() + 40000, y.end()),
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(mp3_without_a_length_tag_is_refused) {
  // Without its Xing tag (the first frame), libsndfile guesses a VBR file's length from the
  // first frame's bit rate and would stop decoding there: that is an error, not a short file.
  TempDir tmp("mp3_notag");
  std::string tagged = (tmp.path / "tagged.mp3").string();
  write_audio(tagged, an4_samples("train", "1011-1-0312"), kSampleRate);
  std::string bytes = read_bytes(tagged);
  // MPEG-2 layer III at 16 kHz: 72 x bit rate / 16000 bytes (+1 padded) per frame.
  static constexpr int kKbps[15] = {0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160};
  auto h = reinterpret_cast<const unsigned char*>(bytes.data());
  BOOST_REQUIRE(h[0] == 0xff && (h[1] & 0xfe) == 0xf2);  // MPEG-2 layer III
  size_t tag = 72 * kKbps[h[2] >> 4] * 1000 / 16000 + ((h[2] >> 1) & 1);
  std::string untagged = (tmp.path / "untagged.mp3").string();
  write_text(untagged, bytes.substr(tag));
  // The same after an ID3v2.3 tag (a 14-byte TIT2 frame) and zero padding outside it, as some
  // taggers leave: the frames are found after the padding.
  std::string id3 = (tmp.path / "id3_padded.mp3").string();
  write_text(id3, std::string("ID3\x03\0\0\0\0\0\x0e" "TIT2\0\0\0\x04\0\0\0AN4", 24) +
                      std::string(300, '\0') + bytes.substr(tag));
  for (const std::string& file : {untagged, id3}) {
    for (auto f : {+[](const std::string& p) { audio_duration(p); },
                   +[](const std::string& p) { read_audio(p); }}) {
      try {
        f(file);
        BOOST_ERROR("no error for an MP3 without a length tag: " << file);
      } catch (const AudioError& e) {
        std::string what = e.what();
        BOOST_TEST(what.find(file) != std::string::npos, what);
        BOOST_TEST(what.find("without a Xing/Info tag") != std::string::npos, what);
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(librispeech_layout_of_mp3_reads_end_to_end) {
  TempDir tmp("libri_mp3");
  fs::path ch = tmp.path / "train" / "1011" / "1";
  fs::create_directories(ch);
  const std::vector<std::string> ids = {"1011-1-0311", "1011-1-0312", "1011-1-0314"};
  for (const std::string& id : ids)
    write_audio((ch / (id + ".mp3")).string(), an4_samples("train", id), kSampleRate);
  // Where an utterance has both, the FLAC is read.
  fs::copy_file(an4_flac("train", ids[2]), ch / (ids[2] + ".flac"));
  write_text(ch / "1011-1.trans.txt",
             "1011-1-0311 ERASE I S L F THIRTY EIGHT\n"
             "1011-1-0312 ERASE Z Y G N P EIGHT HUNDRED AND TWENTY THREE\n"
             "1011-1-0314 A M S J SEVEN THOUSAND ONE HUNDRED AND EIGHTY SIX\n");
  write_text(ch / "1011-1-0311.txt", "not audio: ignored");
  SkipCounts skips;
  std::vector<Utterance> utts =
      read_corpus("librispeech", (tmp.path / "train").string(), false, skips);
  BOOST_TEST(skips.total() == 0, skips.summary());
  BOOST_REQUIRE_EQUAL(utts.size(), 3u);
  for (size_t i = 0; i < ids.size(); ++i) {
    BOOST_TEST(utts[i].key == ids[i]);
    BOOST_TEST(fs::path(utts[i].audio).extension().string() == (i == 2 ? ".flac" : ".mp3"));
    double source = an4_samples("train", ids[i]).size() / double(kSampleRate);
    BOOST_TEST(std::abs(utts[i].duration - source) <= kMp3DurationTolerance, ids[i]);
    BOOST_TEST(read_audio(utts[i].audio).size() == std::lround(utts[i].duration * kSampleRate));
  }
}

BOOST_AUTO_TEST_CASE(real_mp3_librispeech_durations_are_exact) {
  const char* env = std::getenv("LATENTASR_LIBRI_MP3");
  fs::path dir = env && *env
                     ? fs::path(env)
                     : fs::path(LATENTASR_SOURCE_DIR) / ".." / "shared" / "data" / "libri-mp3";
  if (!fs::is_directory(dir / "dev")) {
    BOOST_TEST_MESSAGE("no MP3 LibriSpeech at " << dir << " (set LATENTASR_LIBRI_MP3): skipped");
    return;
  }
  SkipCounts skips;
  std::vector<Utterance> dev = read_librispeech((dir / "dev").string(), skips);
  BOOST_TEST(dev.size() == 152u);
  BOOST_TEST(skips.total() == 0, skips.summary());
  double hours = 0;
  for (const Utterance& u : dev) {
    BOOST_REQUIRE(fs::path(u.audio).extension() == ".mp3");
    // libsndfile's frame count (from the files' Info tags) is the decoded length exactly.
    BOOST_TEST(read_audio(u.audio).size() == std::lround(u.duration * kSampleRate), u.key);
    hours += u.duration / 3600;
  }
  BOOST_TEST(std::abs(hours * 60 - 16.5) < 0.5);  // its README: about 16.5 minutes
}
