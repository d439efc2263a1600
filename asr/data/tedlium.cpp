// TED-LIUM (release 2/3) reader: stm segments of sph talks.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "asr/data/audio.h"
#include "asr/data/corpus.h"
#include "asr/data/tokenizer.h"

namespace asr {
namespace fs = std::filesystem;

namespace {

bool is_tag(const std::string& w) { return w.size() >= 2 && w.front() == '<' && w.back() == '>'; }

std::vector<std::string> split_words(const std::string& s) {
  std::istringstream in(s);
  std::vector<std::string> words;
  for (std::string w; in >> w;) words.push_back(w);
  return words;
}

// "talk-0001234-0005678": the segment's times in centiseconds, as Kaldi's recipes name them.
std::string segment_key(const std::string& talk, double start, double end) {
  char times[40];
  std::snprintf(times, sizeof times, "-%07lld-%07lld", std::llround(start * 100),
                std::llround(end * 100));
  return talk + times;
}

struct Talk {
  std::string name;
  fs::path sph;
  bool has_audio = false;
  double duration = 0;  // seconds; < 0: unreadable header
};

Talk open_talk(const fs::path& split, const std::string& name) {
  Talk t{name, split / "sph" / (name + ".sph")};
  t.has_audio = fs::is_regular_file(t.sph);
  if (t.has_audio) {
    try {
      t.duration = audio_duration(t.sph.string());
    } catch (const AudioError&) {
      t.duration = -1;
    }
  }
  return t;
}

// One stm line -> an utterance, or a skip. `where` is "file:line".
void read_segment(const std::vector<std::string>& f, const Talk& talk, bool keep_unk,
                  const std::string& where, std::vector<Utterance>& out, SkipCounts& skips) {
  if (f.size() < 5)
    throw CorpusError(where + ": expected 'talk channel speaker start end [<label>] text'");
  double start = parse_seconds(f[3], where), end = parse_seconds(f[4], where);
  if (end <= start)
    throw CorpusError(where + ": segment ends (" + f[4] + ") before it starts (" + f[3] + ")");
  size_t first = f.size() > 5 && is_tag(f[5]) && f[5].find(',') != std::string::npos ? 6 : 5;
  std::string raw;
  for (size_t i = first; i < f.size(); ++i) raw += (i > first ? " " : "") + f[i];
  std::string key = segment_key(talk.name, start, end);
  if (raw == "ignore_time_segment_in_scoring") return skips.add(SkipReason::ignored_segment, key);
  std::string text = normalize_tedlium_text(raw, keep_unk);
  if (!talk.has_audio) return skips.add(SkipReason::transcript_without_audio, key);
  if (text.empty()) return skips.add(SkipReason::empty_transcript, key);
  Utterance u{key, talk.sph.string(), text, start, end};
  if (talk.duration < 0 || !fit_segment(u, talk.duration))
    return skips.add(SkipReason::bad_audio, key);
  out.push_back(std::move(u));
}

void read_stm(const fs::path& stm, const Talk& talk, bool keep_unk, std::vector<Utterance>& out,
              SkipCounts& skips) {
  std::ifstream in(stm);
  if (!in) throw CorpusError(stm.string() + ": cannot open the stm file");
  std::string line;
  for (int64_t line_no = 1; std::getline(in, line); ++line_no) {
    std::vector<std::string> fields = split_words(line);
    if (fields.empty() || fields[0].rfind(";;", 0) == 0) continue;
    read_segment(fields, talk, keep_unk, stm.string() + ":" + std::to_string(line_no), out, skips);
  }
}

// The files in `dir` (none if it is not there) ending in `ext`, sorted.
std::vector<fs::path> sorted_files(const fs::path& dir, const std::string& ext) {
  std::vector<fs::path> files;
  if (!fs::is_directory(dir)) return files;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.is_regular_file() && e.path().extension() == ext) files.push_back(e.path());
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace

std::string normalize_tedlium_text(const std::string& text, bool keep_unk) {
  std::vector<std::string> words;
  bool joinable = false;  // the last word kept came right before this token
  for (const std::string& w : split_words(text)) {
    if (w == "<unk>" && keep_unk) {
      words.push_back(w);
      joinable = false;
    } else if (is_tag(w)) {
      joinable = false;
    } else if (w.front() == '\'' && joinable) {
      words.back() += normalize_text(w);
    } else {
      words.push_back(normalize_text(w));
      joinable = true;
    }
  }
  std::string out;
  for (const std::string& w : words) out += (out.empty() ? "" : " ") + w;
  return out;
}

std::vector<Utterance> read_tedlium(const std::string& split_dir, bool keep_unk,
                                    SkipCounts& skips) {
  fs::path split(split_dir);
  if (!fs::is_directory(split)) throw CorpusError(split_dir + ": corpus folder not found");
  std::vector<fs::path> stms = sorted_files(split / "stm", ".stm");
  if (stms.empty())
    throw CorpusError(split_dir +
                      ": no stm/*.stm files (TED-LIUM layout: sph/<talk>.sph, stm/<talk>.stm)");
  std::set<std::string> talks;
  std::vector<Utterance> out;
  for (const fs::path& stm : stms) {
    Talk talk = open_talk(split, stm.stem().string());
    talks.insert(talk.name);
    read_stm(stm, talk, keep_unk, out, skips);
  }
  for (const fs::path& sph : sorted_files(split / "sph", ".sph"))
    if (!talks.count(sph.stem().string()))
      skips.add(SkipReason::audio_without_transcript, sph.string());
  std::sort(out.begin(), out.end(),
            [](const Utterance& a, const Utterance& b) { return a.key < b.key; });
  return out;
}

}  // namespace asr
