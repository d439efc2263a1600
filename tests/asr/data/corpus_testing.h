// Test corpora built at test time from AN4: a TED-LIUM-format fixture (AN4 utterances of one
// speaker joined into one .sph talk, with an .stm of the true segment times), a mini AN4 in
// LibriSpeech layout (symlinks), small audio-writing helpers, and a check of corpus errors.
#pragma once
#include <sndfile.h>

#include <boost/test/unit_test.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "asr/data/corpus.h"
#include "common/an4.h"

namespace testing {
namespace fs = std::filesystem;

inline fs::path an4_flac(const std::string& split, const std::string& id) {
  std::string speaker = id.substr(0, id.find('-'));
  std::string chapter = id.substr(speaker.size() + 1, id.rfind('-') - speaker.size() - 1);
  return an4_dir() / split / speaker / chapter / (id + ".flac");
}

// A fresh empty folder under the system temp dir, removed when the object goes.
struct TempDir {
  fs::path path;
  explicit TempDir(const std::string& tag) {
    std::random_device rd;
    path = fs::temp_directory_path() / ("latentasr_" + tag + "_" + std::to_string(rd()));
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

inline std::vector<short> read_pcm(const fs::path& file) {
  SF_INFO info{};
  SNDFILE* f = sf_open(file.c_str(), SFM_READ, &info);
  BOOST_REQUIRE_MESSAGE(f, "cannot open " + file.string());
  BOOST_REQUIRE_EQUAL(info.channels, 1);
  std::vector<short> pcm(info.frames);
  BOOST_REQUIRE_EQUAL(sf_read_short(f, pcm.data(), info.frames), info.frames);
  sf_close(f);
  return pcm;
}

// 16 kHz mono 16-bit PCM; format: SF_FORMAT_WAV, SF_FORMAT_NIST (.sph), SF_FORMAT_FLAC.
inline void write_pcm(const fs::path& file, const std::vector<short>& pcm,
                      int format = SF_FORMAT_WAV) {
  SF_INFO info{};
  info.samplerate = 16000;
  info.channels = 1;
  info.format = format | SF_FORMAT_PCM_16;
  SNDFILE* f = sf_open(file.c_str(), SFM_WRITE, &info);
  BOOST_REQUIRE_MESSAGE(f, "cannot write " + file.string() + ": " + sf_strerror(nullptr));
  BOOST_REQUIRE_EQUAL(sf_write_short(f, pcm.data(), pcm.size()),
                      static_cast<sf_count_t>(pcm.size()));
  sf_close(f);
}

inline void write_text(const fs::path& file, const std::string& text) {
  fs::create_directories(file.parent_path());
  std::ofstream(file, std::ios::binary) << text;
}

// f() throws a CorpusError whose message holds every one of `parts`.
template <class F>
void check_corpus_error(F&& f, const std::vector<std::string>& parts) {
  try {
    f();
    BOOST_ERROR("expected a CorpusError");
  } catch (const asr::CorpusError& e) {
    std::string msg = e.what();
    for (const std::string& p : parts)
      BOOST_CHECK_MESSAGE(msg.find(p) != std::string::npos, "'" + msg + "' lacks '" + p + "'");
  }
}

// One stm segment of the fixture: what the .stm says and what the reader must make of it.
struct FixtureSegment {
  std::string an4_id;         // source utterance ("" for a silence segment)
  std::string stm_text;       // after the label
  std::string drop_text;      // expected with unk=drop ("" = skipped as empty)
  std::string keep_text;      // expected with unk=keep
  bool label = true;          // write a <o,f0,male> label field
  double start = 0, end = 0;  // filled in by make_talk
};

struct FixtureTalk {
  std::string name, split, an4_split;
  std::vector<FixtureSegment> segments;
};

// TED-LIUM train and dev splits under `root`: train has talks TalkA_2010 (AN4 speaker 1011)
// and TalkB_2011 (1012), dev TalkC_2012 (1001). Each starts with 0.5 s of silence marked
// ignore_time_segment_in_scoring; utterances are padded with silence to 10 ms and 0.3 s
// apart, so the 2-decimal stm times are exact.
inline std::vector<FixtureTalk> fixture_talks() {
  const std::string ignore = "ignore_time_segment_in_scoring";
  return {
      {"TalkA_2010",
       "train",
       "train",
       {{"", ignore, "", ""},
        {"1011-1-0311", "it 's erase i s l f thirty eight", "IT'S ERASE I S L F THIRTY EIGHT",
         "IT'S ERASE I S L F THIRTY EIGHT"},
        {"1011-1-0312", "erase z y g n p <unk> eight hundred and twenty three",
         "ERASE Z Y G N P EIGHT HUNDRED AND TWENTY THREE",
         "ERASE Z Y G N P <unk> EIGHT HUNDRED AND TWENTY THREE"},
        {"1011-1-0314", "a m s j seven thousand <sil> one hundred and eighty six",
         "A M S J SEVEN THOUSAND ONE HUNDRED AND EIGHTY SIX",
         "A M S J SEVEN THOUSAND ONE HUNDRED AND EIGHTY SIX"}}},
      {"TalkB_2011",
       "train",
       "train",
       {{"", ignore, "", ""},
        {"1012-1-0131", "rubout w l f x y  seven oh six nine", "RUBOUT W L F X Y SEVEN OH SIX NINE",
         "RUBOUT W L F X Y SEVEN OH SIX NINE", false},
        {"1012-1-0132", "go", "GO", "GO"},
        {"1012-1-0133", "<unk>", "", "<unk>"}}},
      {"TalkC_2012",
       "dev",
       "dev",
       {{"", ignore, "", ""},
        {"1001-1-0251", "yes", "YES", "YES"},
        {"1001-1-0253", "<breath> go", "GO", "GO"},
        {"1001-1-0255", "u m n y h six", "U M N Y H SIX", "U M N Y H SIX"}}},
  };
}

// Writes root/<split>/sph/<talk>.sph and root/<split>/stm/<talk>.stm; returns the talks with
// their segment times.
inline std::vector<FixtureTalk> make_tedlium_fixture(const fs::path& root) {
  std::vector<FixtureTalk> talks = fixture_talks();
  for (FixtureTalk& talk : talks) {
    std::vector<short> pcm(8000, 0);  // 0.5 s of silence
    std::string stm = ";; TED-LIUM-format fixture made from AN4\n";
    for (FixtureSegment& s : talk.segments) {
      if (s.an4_id.empty()) {
        s.start = 0;
        s.end = 0.5;
      } else {
        std::vector<short> utt = read_pcm(an4_flac(talk.an4_split, s.an4_id));
        utt.resize((utt.size() + 159) / 160 * 160, 0);
        s.start = pcm.size() / 16000.0;
        pcm.insert(pcm.end(), utt.begin(), utt.end());
        s.end = pcm.size() / 16000.0;
        pcm.resize(pcm.size() + 4800, 0);  // 0.3 s apart
      }
      char times[64];
      std::snprintf(times, sizeof times, "%.2f %.2f", s.start, s.end);
      stm += talk.name + " 1 " + talk.name + " " + times + (s.label ? " <o,f0,male> " : " ") +
             s.stm_text + "\n";
    }
    fs::path split = root / talk.split;
    fs::create_directories(split / "sph");
    write_pcm(split / "sph" / (talk.name + ".sph"), pcm, SF_FORMAT_NIST);
    write_text(split / "stm" / (talk.name + ".stm"), stm);
  }
  return talks;
}

// A LibriSpeech-layout copy of part of AN4 (symlinked files): the given speakers of each split.
inline void make_mini_an4(const fs::path& root, const std::vector<std::string>& train_speakers,
                          const std::vector<std::string>& dev_speakers) {
  auto link = [&](const std::string& split, const std::vector<std::string>& speakers) {
    for (const std::string& s : speakers) {
      fs::create_directories(root / split);
      fs::create_directory_symlink(fs::absolute(an4_dir() / split / s), root / split / s);
    }
  };
  link("train", train_speakers);
  link("dev", dev_speakers);
}

}  // namespace testing
