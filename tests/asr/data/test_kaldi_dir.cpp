// Kaldi data directories (wav.scp, text, segments, utt2spk) built at test time from AN4 files
// and from the TED-LIUM fixture's talks: whole recordings, segments cut from talks, every skip
// and every malformed line.
#include <boost/test/unit_test.hpp>
#include <sstream>

#include "asr/data/audio.h"
#include "asr/data/corpus.h"
#include "asr/data/corpus_testing.h"
#include "asr/data/prepare.h"

using namespace asr;
using namespace testing;

BOOST_AUTO_TEST_CASE(whole_recordings_and_what_is_skipped) {
  TempDir tmp("kaldi_whole");
  fs::path d = tmp.path / "train";
  fs::path a = an4_flac("train", "1011-1-0311"), b = an4_flac("train", "1011-1-0312");
  write_text(tmp.path / "corrupt.wav", "not audio");
  // c: relative to the current directory; e: no text; f: text only; g: empty text;
  // h: missing file; i: unreadable; j: a name longer than the system allows (missing, not an
  // exception: fuzz_kaldi_dir's finding). Lines in no order, CRLF and extra spaces are fine.
  std::ostringstream scp;
  scp << "b " << b.string() << "\r\n\na   " << a.string() << "\nc "
      << fs::relative(an4_flac("dev", "1001-1-0251")).string() << "\ne " << a.string() << "\ng "
      << a.string() << "\nh " << (tmp.path / "gone.flac").string() << "\ni "
      << (tmp.path / "corrupt.wav").string() << "\nj " << std::string(300, 'x') << ".wav\n";
  write_text(d / "wav.scp", scp.str());
  write_text(d / "text",
             "a erase i s l f thirty eight\nb ERASE  Z Y G N P EIGHT HUNDRED AND TWENTY THREE\n"
             "c YES\nf NO AUDIO\ng\nh MISSING\ni CORRUPT\nj TOO LONG\n");
  write_text(d / "utt2spk", "a 1011\nb 1011\nc 1001\n");
  SkipCounts skips;
  std::vector<Utterance> utts = read_corpus("kaldi", d.string(), false, skips);
  BOOST_REQUIRE_EQUAL(utts.size(), 3u);
  BOOST_TEST(utts[0].key == "a");
  BOOST_TEST(utts[0].text == "ERASE I S L F THIRTY EIGHT");
  BOOST_TEST(utts[0].audio == a.string());
  BOOST_TEST(utts[0].start == 0);
  BOOST_TEST(utts[0].end < 0);
  BOOST_TEST(utts[0].duration == audio_duration(a.string()));
  BOOST_TEST(utts[1].key == "b");
  BOOST_TEST(utts[1].text == "ERASE Z Y G N P EIGHT HUNDRED AND TWENTY THREE");
  BOOST_TEST(utts[1].duration == 3.9);
  BOOST_TEST(utts[2].key == "c");
  BOOST_TEST(fs::equivalent(utts[2].audio, an4_flac("dev", "1001-1-0251")));
  BOOST_TEST(skips.count(SkipReason::audio_without_transcript) == 1);  // e
  BOOST_TEST(skips.count(SkipReason::transcript_without_audio) == 1);  // f
  BOOST_TEST(skips.count(SkipReason::empty_transcript) == 1);          // g
  BOOST_TEST(skips.count(SkipReason::missing_audio) == 2);             // h, j
  BOOST_TEST(skips.count(SkipReason::bad_audio) == 1);                 // i
  BOOST_TEST(skips.total() == 6);
  BOOST_TEST(skips.summary().find("gone.flac") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(segments_cut_the_recordings) {
  TempDir tmp("kaldi_segments");
  std::vector<FixtureTalk> talks = make_tedlium_fixture(tmp.path / "ted");
  const FixtureTalk& talk = talks[0];  // TalkA_2010: silence, then three AN4 utterances
  fs::path sph = tmp.path / "ted" / "train" / "sph" / (talk.name + ".sph");
  double length = audio_duration(sph.string());
  fs::path d = tmp.path / "data";
  std::string segments, text;
  for (size_t i = 1; i < talk.segments.size(); ++i) {
    const FixtureSegment& s = talk.segments[i];
    char line[128];
    std::snprintf(line, sizeof line, "u%zu talk %.2f %.2f\n", i, s.start, s.end);
    segments += line;
    std::snprintf(line, sizeof line, "u%zu ", i);
    text += line + s.drop_text + "\n";
  }
  // u4: to the end (-1); u5: 0.3 s past the end, cut; u6: far past it; u7: no such recording;
  // u8: a segment without text.
  segments += "u4 talk 1.00 -1\nu5 talk 2.00 ";
  segments += std::to_string(length + 0.3);
  segments += "\nu6 talk 2.00 999\nu7 nowhere 0 1\nu8 talk 0 1\n";
  text += "u4 FOUR\nu5 FIVE\nu6 SIX\nu7 SEVEN\n";
  write_text(d / "wav.scp", "talk " + sph.string() + "\n");
  write_text(d / "segments", segments);
  write_text(d / "text", text);
  SkipCounts skips;
  std::vector<Utterance> utts = read_kaldi_dir(d.string(), skips);
  BOOST_REQUIRE_EQUAL(utts.size(), 5u);
  for (size_t i = 1; i <= 3; ++i) {
    const Utterance& u = utts[i - 1];
    const FixtureSegment& s = talk.segments[i];
    BOOST_TEST(u.key == std::string(1, 'u').append(std::to_string(i)));
    BOOST_TEST(u.text == s.drop_text);
    BOOST_TEST(u.start == s.start);
    BOOST_TEST(u.end == s.end);
    BOOST_TEST(std::abs(u.duration - (s.end - s.start)) < 1e-9);
    // The segment's audio is the source utterance, padded to 10 ms with silence.
    std::vector<float> cut = read_audio(u.audio, kSampleRate, u.start, u.end);
    std::vector<float> source = read_audio(an4_flac(talk.an4_split, s.an4_id).string());
    BOOST_REQUIRE_EQUAL(cut.size(), (source.size() + 159) / 160 * 160);
    BOOST_TEST(std::vector<float>(cut.begin(), cut.begin() + source.size()) == source,
               boost::test_tools::per_element());
  }
  BOOST_TEST(utts[3].key == "u4");
  BOOST_TEST(utts[3].end == length);
  BOOST_TEST(std::abs(utts[3].duration - (length - 1)) < 1e-9);
  BOOST_TEST(utts[4].key == "u5");
  BOOST_TEST(utts[4].end == length);
  BOOST_TEST(skips.count(SkipReason::bad_audio) == 1);                 // u6
  BOOST_TEST(skips.count(SkipReason::transcript_without_audio) == 1);  // u7
  BOOST_TEST(skips.count(SkipReason::audio_without_transcript) == 1);  // u8
  BOOST_TEST(skips.total() == 3);

  // asr-prepare's library writes the manifest with absolute paths.
  SkipCounts manifest_skips;
  BOOST_TEST(prepare_manifest(d.string(), "kaldi", false, (tmp.path / "m.jsonl").string(),
                              manifest_skips) == 5u);
}

BOOST_AUTO_TEST_CASE(bad_directories_and_lines_name_the_file_and_line) {
  TempDir tmp("kaldi_bad");
  SkipCounts skips;
  check_corpus_error([&] { read_kaldi_dir((tmp.path / "nope").string(), skips); },
                     {"nope", "not found"});
  fs::path d = tmp.path / "d";
  write_text(d / "text", "a A\n");
  check_corpus_error([&] { read_kaldi_dir(d.string(), skips); }, {"wav.scp: not found"});
  std::string flac = an4_flac("train", "1011-1-0311").string();
  auto bad = [&](const std::string& file, const std::string& content,
                 const std::vector<std::string>& parts) {
    TempDir t("kaldi_line");
    write_text(t.path / "wav.scp", "a " + flac + "\n");
    write_text(t.path / "text", "a A\n");
    write_text(t.path / file, content);
    std::vector<std::string> all = parts;
    all.push_back((t.path / file).string());
    check_corpus_error([&] { read_kaldi_dir(t.path.string(), skips); }, all);
  };
  bad("wav.scp", "a " + flac + "\nb sph2pipe -f wav -p b.sph |\n",
      {"wav.scp:2", "'b' is a piped command"});
  bad("wav.scp", "a " + flac + "\nb\n", {"wav.scp:2", "expected '<recording> <audio path>'"});
  bad("wav.scp", "a " + flac + "\n\na " + flac + "\n", {"wav.scp:3", "key 'a' already on line 1"});
  bad("text", "a A\na B\n", {"text:2", "key 'a' already on line 1"});
  bad("segments", "a a 0 1 2\n", {"segments:1", "expected '<utterance> <recording> <start>"});
  bad("segments", "a a 0 one\n", {"segments:1", "bad time 'one'"});
  bad("segments", "a a -1 1\n", {"segments:1", "bad time '-1'"});
  bad("segments", "a a 2 1\n", {"segments:1", "ends (1) before it starts (2)"});
  bad("utt2spk", "a\n", {"utt2spk:1", "expected '<utterance> <speaker>'"});
}
