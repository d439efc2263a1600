// Corpus readers (LibriSpeech on AN4 and on broken copies, TED-LIUM on a fixture built from
// AN4) and manifests.
#include <boost/test/unit_test.hpp>

#include "asr/data/audio.h"
#include "asr/data/corpus.h"
#include "asr/data/manifest.h"
#include "asr/data/corpus_testing.h"

using namespace asr;
using namespace testing;

namespace {

const Utterance* find(const std::vector<Utterance>& utts, const std::string& key) {
  for (const Utterance& u : utts)
    if (u.key == key) return &u;
  return nullptr;
}

}  // namespace

BOOST_AUTO_TEST_CASE(librispeech_reads_an4) {
  SkipCounts train_skips, dev_skips;
  std::vector<Utterance> train = read_librispeech(an4_dir() / "train", train_skips);
  std::vector<Utterance> dev = read_librispeech(an4_dir() / "dev", dev_skips);
  BOOST_CHECK_EQUAL(train.size(), 848u);
  BOOST_CHECK_EQUAL(dev.size(), 100u);
  BOOST_CHECK_EQUAL(train_skips.total(), 0);
  BOOST_CHECK_EQUAL(dev_skips.total(), 0);
  BOOST_CHECK_EQUAL(train.front().key, "1011-1-0311");
  BOOST_CHECK(
      std::is_sorted(train.begin(), train.end(), [](auto& a, auto& b) { return a.key < b.key; }));
  const Utterance* u = find(train, "1011-1-0312");
  BOOST_REQUIRE(u);
  BOOST_CHECK_EQUAL(u->text, "ERASE Z Y G N P EIGHT HUNDRED AND TWENTY THREE");
  BOOST_CHECK_CLOSE(u->duration, 3.9, 1e-6);
  BOOST_CHECK_EQUAL(u->start, 0);
  BOOST_CHECK_LT(u->end, 0);
  BOOST_CHECK(fs::equivalent(u->audio, an4_flac("train", "1011-1-0312")));
  double hours = 0;
  for (const Utterance& t : train) hours += t.duration / 3600;
  BOOST_CHECK_CLOSE(hours * 60, 38.0, 1.0);  // README: 38.0 minutes
}

BOOST_AUTO_TEST_CASE(librispeech_skips_and_counts_bad_entries) {
  TempDir tmp("libri");
  fs::path ch = tmp.path / "train" / "7" / "3";
  fs::create_directories(ch);
  std::vector<short> pcm = read_pcm(an4_flac("train", "1011-1-0311"));
  for (std::string id : {"7-3-0001", "7-3-0002", "7-3-0003", "7-3-0005"})
    write_pcm(ch / (id + ".flac"), pcm, SF_FORMAT_FLAC);
  write_text(ch / "7-3-0006.flac", "not audio at all");
  // 0001 fine (CRLF, extra spaces); 0002 id only; 0003 blank text; 0004 no audio; 0005 not named;
  // 0006 corrupt; the last line has no final newline.
  write_text(ch / "7-3.trans.txt",
             "7-3-0001   HELLO  there\r\n7-3-0002\n7-3-0003    \n\n7-3-0004 NO AUDIO\n7-3-0006 "
             "CORRUPT FILE");
  SkipCounts skips;
  std::vector<Utterance> utts = read_librispeech((tmp.path / "train").string(), skips);
  BOOST_REQUIRE_EQUAL(utts.size(), 1u);
  BOOST_CHECK_EQUAL(utts[0].key, "7-3-0001");
  BOOST_CHECK_EQUAL(utts[0].text, "HELLO THERE");
  BOOST_CHECK_CLOSE(utts[0].duration, pcm.size() / 16000.0, 1e-9);
  BOOST_CHECK_EQUAL(skips.count(SkipReason::empty_transcript), 2);
  BOOST_CHECK_EQUAL(skips.count(SkipReason::transcript_without_audio), 1);
  BOOST_CHECK_EQUAL(skips.count(SkipReason::audio_without_transcript), 1);
  BOOST_CHECK_EQUAL(skips.count(SkipReason::bad_audio), 1);
  BOOST_CHECK_EQUAL(skips.total(), 5);
  std::string summary = skips.summary();
  BOOST_CHECK(summary.find("1 transcript without audio (e.g. 7-3-0004)") != std::string::npos);
  BOOST_CHECK(summary.find("7-3-0005.flac") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(librispeech_prefers_flac_then_wav_in_any_case) {
  // An utterance with several audio files reads .flac, then .wav, whatever their case.
  TempDir tmp("libri_case");
  fs::path ch = tmp.path / "train" / "7" / "3";
  std::vector<short> pcm = read_pcm(an4_flac("train", "1011-1-0311"));
  write_text(ch / "7-3.trans.txt", "7-3-0001 HELLO\n7-3-0002 HELLO\n");
  write_pcm(ch / "7-3-0001.FLAC", pcm, SF_FORMAT_FLAC);
  write_pcm(ch / "7-3-0001.wav", pcm);
  write_pcm(ch / "7-3-0002.WAV", pcm);
  write_pcm(ch / "7-3-0002.aiff", pcm, SF_FORMAT_AIFF);
  SkipCounts skips;
  std::vector<Utterance> utts = read_librispeech((tmp.path / "train").string(), skips);
  BOOST_REQUIRE_EQUAL(utts.size(), 2u);
  BOOST_CHECK_EQUAL(fs::path(utts[0].audio).extension().string(), ".FLAC");
  BOOST_CHECK_EQUAL(fs::path(utts[1].audio).extension().string(), ".WAV");
}

BOOST_AUTO_TEST_CASE(librispeech_transcript_names) {
  // The reader's test, and asr-eval --data's for a LibriSpeech-layout folder.
  BOOST_TEST(is_librispeech_transcript("19-198.trans.txt"));
  BOOST_TEST(!is_librispeech_transcript(".trans.txt"));  // no name before it
  BOOST_TEST(!is_librispeech_transcript("19-198.txt"));
  BOOST_TEST(!is_librispeech_transcript("19-198.trans.txt.bak"));
}

BOOST_AUTO_TEST_CASE(librispeech_errors_name_the_folder_or_line) {
  TempDir tmp("libri_err");
  SkipCounts skips;
  std::string missing = (tmp.path / "nope").string();
  check_corpus_error([&] { read_librispeech(missing, skips); }, {missing, "not found"});
  fs::create_directories(tmp.path / "empty" / "1");
  check_corpus_error([&] { read_librispeech((tmp.path / "empty").string(), skips); },
                     {"no LibriSpeech transcripts"});
  write_text(tmp.path / "dup" / "1" / "1" / "1-1.trans.txt", "1-1-1 A\n1-1-1 B\n");
  check_corpus_error([&] { read_librispeech((tmp.path / "dup").string(), skips); },
                     {"1-1.trans.txt:2", "twice"});
  check_corpus_error([&] { read_corpus("sphinx", missing, false, skips); },
                     {"sphinx", "librispeech | tedlium | kaldi"});
}

BOOST_AUTO_TEST_CASE(tedlium_text_rules) {
  // As Kaldi's tedlium local/prepare_data.sh + join_suffix.py (run by ESPnet's tedlium2).
  BOOST_CHECK_EQUAL(normalize_tedlium_text("it 's what we 're  doing", false),
                    "IT'S WHAT WE'RE DOING");
  BOOST_CHECK_EQUAL(normalize_tedlium_text("a <unk> b", false), "A B");
  BOOST_CHECK_EQUAL(normalize_tedlium_text("a <unk> b", true), "A <unk> B");
  BOOST_CHECK_EQUAL(normalize_tedlium_text("<sil> a <noise> b <breath>", true), "A B");
  BOOST_CHECK_EQUAL(normalize_tedlium_text("{NOISE} a [SMACK] b", true), "A B");
  BOOST_CHECK_EQUAL(normalize_tedlium_text("'cause it", false), "'CAUSE IT");  // nothing to join
  BOOST_CHECK_EQUAL(normalize_tedlium_text("a <sil> 's", false), "A'S");  // <sil> goes first
  BOOST_CHECK_EQUAL(normalize_tedlium_text("<unk> 's b", true), "<unk>'S B");
  BOOST_CHECK_EQUAL(normalize_tedlium_text("<unk> 's b", false), "B");  // the joined word goes
  BOOST_CHECK_EQUAL(normalize_tedlium_text("rock 'n' 'roll", false), "ROCK'N' 'ROLL");  // one each
  BOOST_CHECK_EQUAL(normalize_tedlium_text("read(2) the(3) book", false), "READ THE BOOK");
  // Every "(digit)", also after a "(" that opens none (sed's s:([0-9])::g).
  BOOST_CHECK_EQUAL(normalize_tedlium_text("x(a)y(2) z", false), "X(A)Y Z");
  BOOST_CHECK_EQUAL(normalize_tedlium_text("the end (AlGore_2009-17)", false), "THE END");
  BOOST_CHECK_EQUAL(normalize_tedlium_text("the end(AlGore_2009-17)", false), "THE END");
  BOOST_CHECK_EQUAL(normalize_tedlium_text("<unk>", false), "");
}

BOOST_AUTO_TEST_CASE(tedlium_3_layout_and_release_2_dev_labels) {
  // TED-LIUM 3: TEDLIUM_release-3/legacy/{train,dev,test} (release 2's split) and data/ (all
  // training talks), each sph/ + stm/.
  TempDir tmp("ted3");
  fs::path root = tmp.path / "TEDLIUM_release-3";
  make_tedlium_fixture(root / "legacy");
  fs::create_directories(root / "data");
  fs::copy(root / "legacy" / "train", root / "data", fs::copy_options::recursive);
  // Release 2's dev stm labels are <F0_M> / <F0_F>.
  write_text(root / "data" / "stm" / "TalkB_2011.stm",
             "TalkB_2011 1 TalkB_2011 1.00 2.00 <F0_M> <unk> 's fine\n"
             "TalkB_2011 1 TalkB_2011 2.00 3.00 <F0_F> so(2) fine (TalkB_2011-2)\n");
  SkipCounts legacy_skips, data_skips;
  std::vector<Utterance> legacy =
      read_corpus("tedlium", (root / "legacy" / "train").string(), true, legacy_skips);
  std::vector<Utterance> data = read_corpus("tedlium", (root / "data").string(), true, data_skips);
  BOOST_CHECK_EQUAL(legacy.size(), 6u);
  BOOST_REQUIRE_EQUAL(data.size(), 5u);  // TalkA's three, TalkB's two
  BOOST_CHECK_EQUAL(data[3].key, "TalkB_2011-0000100-0000200");
  BOOST_CHECK_EQUAL(data[3].text, "<unk>'S FINE");
  BOOST_CHECK_EQUAL(data[4].text, "SO FINE");
}

BOOST_AUTO_TEST_CASE(tedlium_reads_the_fixture) {
  TempDir tmp("ted");
  std::vector<FixtureTalk> talks = make_tedlium_fixture(tmp.path);
  for (bool keep : {false, true}) {
    SkipCounts skips;
    std::vector<Utterance> train = read_tedlium((tmp.path / "train").string(), keep, skips);
    BOOST_CHECK_EQUAL(train.size(), keep ? 6u : 5u);
    BOOST_CHECK_EQUAL(skips.count(SkipReason::ignored_segment), 2);
    BOOST_CHECK_EQUAL(skips.count(SkipReason::empty_transcript), keep ? 0 : 1);
    BOOST_CHECK_EQUAL(skips.total(), keep ? 2 : 3);
    for (const FixtureTalk& talk : talks) {
      if (talk.split != "train") continue;
      for (const FixtureSegment& s : talk.segments) {
        char key[64];
        std::snprintf(key, sizeof key, "%s-%07lld-%07lld", talk.name.c_str(),
                      std::llround(s.start * 100), std::llround(s.end * 100));
        const Utterance* u = find(train, key);
        const std::string& want = keep ? s.keep_text : s.drop_text;
        BOOST_CHECK_MESSAGE((u != nullptr) == !want.empty(), key);
        if (!u) continue;
        BOOST_CHECK_EQUAL(u->text, want);
        BOOST_CHECK_EQUAL(u->start, s.start);
        BOOST_CHECK_EQUAL(u->end, s.end);
        BOOST_CHECK_CLOSE(u->duration, s.end - s.start, 1e-9);
        BOOST_CHECK(fs::equivalent(u->audio, tmp.path / "train" / "sph" / (talk.name + ".sph")));
      }
    }
  }
  // Keys spell the times in centiseconds: TalkA's first utterance starts after 0.5 s.
  SkipCounts skips;
  std::vector<Utterance> dev = read_tedlium((tmp.path / "dev").string(), false, skips);
  BOOST_REQUIRE_EQUAL(dev.size(), 3u);
  BOOST_CHECK_EQUAL(dev[0].key.substr(0, 19), "TalkC_2012-0000050-");
  BOOST_CHECK_EQUAL(dev[1].text, "GO");
}

BOOST_AUTO_TEST_CASE(tedlium_segments_cut_the_source_audio) {
  TempDir tmp("ted_audio");
  std::vector<FixtureTalk> talks = make_tedlium_fixture(tmp.path);
  const FixtureTalk& talk = talks[0];
  const FixtureSegment& s = talk.segments[2];
  std::vector<float> cut = read_audio((tmp.path / "train" / "sph" / (talk.name + ".sph")).string(),
                                      kSampleRate, s.start, s.end);
  std::vector<float> source = read_audio(an4_flac("train", s.an4_id).string());
  BOOST_REQUIRE_EQUAL(cut.size(), (source.size() + 159) / 160 * 160);
  for (size_t i = 0; i < cut.size(); ++i)
    BOOST_REQUIRE_EQUAL(cut[i], i < source.size() ? source[i] : 0.0f);
}

BOOST_AUTO_TEST_CASE(tedlium_skips_and_errors) {
  TempDir tmp("ted_bad");
  make_tedlium_fixture(tmp.path);
  fs::path train = tmp.path / "train";
  // A talk without audio, audio without a talk, a segment past the end of its audio.
  write_text(train / "stm" / "NoAudio_2000.stm",
             "NoAudio_2000 1 NoAudio_2000 1.00 2.00 <o,f0,male> hello\n"
             "NoAudio_2000 1 NoAudio_2000 2.00 3.00 <o,f0,male> again\n");
  fs::copy_file(train / "sph" / "TalkB_2011.sph", train / "sph" / "Orphan_2001.sph");
  // A segment ending 0.3 s past the audio is cut at its end; one ending far past it is skipped.
  fs::copy_file(train / "sph" / "TalkB_2011.sph", train / "sph" / "Late_2002.sph");
  double length = audio_duration((train / "sph" / "Late_2002.sph").string());
  char late[64];
  std::snprintf(late, sizeof late, "%.2f", length + 0.3);
  write_text(train / "stm" / "Late_2002.stm",
             "Late_2002 1 Late_2002 0.50 999.00 <o,f0,male> too late\n"
             "Late_2002 1 Late_2002 1.00 " +
                 std::string(late) + " <o,f0,male> a bit late\n");
  SkipCounts skips;
  std::vector<Utterance> utts = read_tedlium(train.string(), false, skips);
  BOOST_REQUIRE_EQUAL(utts.size(), 6u);
  auto cut = std::find_if(utts.begin(), utts.end(),
                          [](const Utterance& u) { return u.text == "A BIT LATE"; });
  BOOST_REQUIRE(cut != utts.end());
  BOOST_CHECK_EQUAL(cut->key.substr(0, 18), "Late_2002-0000100-");
  BOOST_CHECK_EQUAL(cut->end, length);
  BOOST_CHECK_CLOSE(cut->duration, length - 1.0, 1e-9);
  BOOST_CHECK_EQUAL(skips.count(SkipReason::transcript_without_audio), 2);
  BOOST_CHECK_EQUAL(skips.count(SkipReason::audio_without_transcript), 1);
  BOOST_CHECK_EQUAL(skips.count(SkipReason::bad_audio), 1);

  SkipCounts s;
  check_corpus_error([&] { read_tedlium((tmp.path / "nope").string(), false, s); },
                     {"nope", "not found"});
  check_corpus_error([&] { read_tedlium((tmp.path / "train" / "sph").string(), false, s); },
                     {"no stm/*.stm"});
  auto bad_line = [&](const std::string& line, const std::vector<std::string>& parts) {
    TempDir t("ted_line");
    write_text(t.path / "stm" / "X.stm",
               ";; header\nX 1 X 0.00 1.00 <o,f0,male> fine\n" + line + "\n");
    check_corpus_error([&] { read_tedlium(t.path.string(), false, s); }, parts);
  };
  bad_line("X 1 X 0.00", {"X.stm:3", "expected 'talk channel speaker start end"});
  bad_line("X 1 X zero 1.00 <o,f0,male> hi", {"X.stm:3", "bad time 'zero'"});
  bad_line("X 1 X 2.00 1.00 <o,f0,male> hi", {"X.stm:3", "ends (1.00) before it starts (2.00)"});
}

BOOST_AUTO_TEST_CASE(manifest_round_trip) {
  TempDir tmp("manifest");
  std::vector<Utterance> utts = {
      {"a", "/abs/a.flac", "HELLO \"WORLD\"", 0, -1, 2.5},
      {"talk-0000050-0000360", "/abs/talk.sph", "IT'S <unk>", 0.5, 3.6, 3.1},
  };
  std::string path = (tmp.path / "m.jsonl").string();
  write_manifest(path, utts);
  std::vector<Utterance> back = read_manifest(path);
  BOOST_REQUIRE_EQUAL(back.size(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    BOOST_CHECK_EQUAL(back[i].key, utts[i].key);
    BOOST_CHECK_EQUAL(back[i].audio, utts[i].audio);
    BOOST_CHECK_EQUAL(back[i].text, utts[i].text);
    BOOST_CHECK_EQUAL(back[i].start, utts[i].start);
    BOOST_CHECK_EQUAL(back[i].end, utts[i].end);
    BOOST_CHECK_EQUAL(back[i].duration, utts[i].duration);
  }
  BOOST_CHECK(!fs::exists(path + ".tmp"));
  BOOST_CHECK_EQUAL(resolve_manifest((tmp.path / "m").string()), path);
  BOOST_CHECK_EQUAL(resolve_manifest(path), path);
  check_corpus_error([&] { resolve_manifest((tmp.path / "x").string()); },
                     {"x.jsonl", "no such manifest"});

  // Relative audio is relative to the manifest; duration defaults to end - start, or 0.
  write_text(tmp.path / "sub" / "r.jsonl",
             "{\"key\":\"r\",\"audio\":\"wav/r.wav\",\"text\":\"R\",\"start\":1,\"end\":3}\n\n"
             "{\"key\":\"s\",\"audio\":\"s.wav\",\"text\":\"S\",\"start\":0,\"end\":-1}");
  back = read_manifest((tmp.path / "sub" / "r.jsonl").string());
  BOOST_REQUIRE_EQUAL(back.size(), 2u);
  BOOST_CHECK_EQUAL(back[0].audio, (tmp.path / "sub" / "wav" / "r.wav").string());
  BOOST_CHECK_EQUAL(back[0].duration, 2.0);
  BOOST_CHECK_EQUAL(back[1].duration, 0.0);
}

BOOST_AUTO_TEST_CASE(manifest_errors_name_file_and_line) {
  TempDir tmp("manifest_err");
  const std::string good =
      "{\"key\":\"a\",\"audio\":\"a.wav\",\"text\":\"A\",\"start\":0,\"end\":-1}\n";
  auto bad = [&](const std::string& second_line, const std::vector<std::string>& parts) {
    std::string path = (tmp.path / "bad.jsonl").string();
    write_text(path, good + second_line + "\n");
    std::vector<std::string> all = parts;
    all.push_back(path + ":2");
    check_corpus_error([&] { read_manifest(path); }, all);
  };
  bad("{\"key\":\"b\",\"audio\":\"b.wav\",\"text\":\"B\",\"start\":0", {"not a JSON object"});
  bad("[1, 2]", {"not a JSON object"});
  bad("{\"key\":\"b\",\"text\":\"B\",\"start\":0,\"end\":-1}", {"missing \"audio\""});
  bad("{\"key\":\"b\",\"audio\":\"b.wav\",\"text\":7,\"start\":0,\"end\":-1}",
      {"\"text\" must be a string, got 7"});
  bad("{\"key\":\"b\",\"audio\":\"b.wav\",\"text\":\"B\",\"start\":\"0\",\"end\":-1}",
      {"\"start\" must be a number"});
  bad("{\"key\":\"b\",\"audio\":\"b.wav\",\"text\":\"B\",\"start\":2,\"end\":1}", {"bad segment"});
  bad("{\"key\":\"a\",\"audio\":\"b.wav\",\"text\":\"B\",\"start\":0,\"end\":-1}",
      {"key 'a' already on line 1"});
  check_corpus_error([&] { read_manifest((tmp.path / "none.jsonl").string()); },
                     {"none.jsonl", "cannot open"});
  check_corpus_error([&] { write_manifest((tmp.path / "no" / "dir" / "m.jsonl").string(), {}); },
                     {"m.jsonl", "cannot write"});
}
