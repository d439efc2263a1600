// Kaldi data directory reader: wav.scp, text, optional segments and utt2spk.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>

#include "asr/data/audio.h"
#include "asr/data/corpus.h"
#include "asr/data/tokenizer.h"

namespace asr {
namespace fs = std::filesystem;

namespace {

// One "<key> <rest>" line; `where` is "file:line".
struct Entry {
  std::string rest;  // the line after the key, trimmed ("" if none)
  std::string where;
};

std::string trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t\r") - b + 1);
}

// The lines of `file` by key (blank lines ignored). A key twice is an error.
std::map<std::string, Entry> read_table(const fs::path& file) {
  std::ifstream in(file);
  if (!in) throw CorpusError(file.string() + ": cannot open");
  std::map<std::string, Entry> table;
  std::string line;
  for (int64_t line_no = 1; std::getline(in, line); ++line_no) {
    line = trim(line);
    if (line.empty()) continue;
    size_t key_end = line.find_first_of(" \t");
    std::string key = line.substr(0, key_end);
    Entry e{key_end == std::string::npos ? "" : trim(line.substr(key_end)),
            file.string() + ":" + std::to_string(line_no)};
    auto [at, added] = table.emplace(key, e);
    if (!added)
      throw CorpusError(e.where + ": key '" + key + "' already on line " +
                        at->second.where.substr(at->second.where.rfind(':') + 1));
  }
  return table;
}

// wav.scp: recording -> audio path. Piped commands and missing paths are errors.
std::map<std::string, std::string> read_wav_scp(const fs::path& file) {
  std::map<std::string, std::string> paths;
  for (const auto& [rec, e] : read_table(file)) {
    if (e.rest.empty()) throw CorpusError(e.where + ": expected '<recording> <audio path>'");
    if (e.rest.back() == '|')
      throw CorpusError(e.where + ": '" + rec +
                        "' is a piped command, not an audio file; asr-prepare reads files only "
                        "(write the audio out first, e.g. with sph2pipe or sox, and list the "
                        "paths)");
    paths[rec] = e.rest;
  }
  return paths;
}

struct Segment {
  std::string recording;
  double start, end;  // end < 0: to the end of the recording
};

std::map<std::string, Segment> read_segments(const fs::path& file) {
  std::map<std::string, Segment> segments;
  for (const auto& [utt, e] : read_table(file)) {
    std::vector<std::string> f = split_words(e.rest);
    if (f.size() != 3)
      throw CorpusError(e.where + ": expected '<utterance> <recording> <start> <end>'");
    Segment s{f[0], parse_seconds(f[1], e.where), f[2] == "-1" ? -1 : parse_seconds(f[2], e.where)};
    if (s.end >= 0 && s.end <= s.start)
      throw CorpusError(e.where + ": segment ends (" + f[2] + ") before it starts (" + f[1] + ")");
    segments[utt] = s;
  }
  return segments;
}

void check_utt2spk(const fs::path& file) {
  for (const auto& [utt, e] : read_table(file))
    if (split_words(e.rest).size() != 1)
      throw CorpusError(e.where + ": expected '<utterance> <speaker>'");
}

// Recording durations, read once each; < 0: missing (-1) or unreadable (-2).
class Durations {
 public:
  double operator()(const std::string& path) {
    auto [at, added] = seconds_.emplace(path, 0);
    if (added) {
      if (!audio_file_present(path)) {
        at->second = -1;
      } else {
        try {
          at->second = audio_duration(path);
        } catch (const AudioError&) {
          at->second = -2;
        }
      }
    }
    return at->second;
  }

 private:
  std::map<std::string, double> seconds_;
};

}  // namespace

std::vector<Utterance> read_kaldi_dir(const std::string& dir, SkipCounts& skips) {
  fs::path d(dir);
  if (!fs::is_directory(d)) throw CorpusError(dir + ": corpus folder not found");
  for (const char* required : {"wav.scp", "text"})
    if (!fs::is_regular_file(d / required))
      throw CorpusError((d / required).string() + ": not found (a Kaldi data directory holds " +
                        "wav.scp and text, optionally segments and utt2spk)");
  std::map<std::string, std::string> wavs = read_wav_scp(d / "wav.scp");
  std::map<std::string, Entry> texts = read_table(d / "text");
  bool has_segments = fs::exists(d / "segments");
  std::map<std::string, Segment> segments;
  if (has_segments) {
    segments = read_segments(d / "segments");
  } else {
    for (const auto& [rec, path] : wavs) segments[rec] = Segment{rec, 0, -1};
  }
  if (fs::exists(d / "utt2spk")) check_utt2spk(d / "utt2spk");

  Durations durations;
  std::vector<Utterance> out;
  for (const auto& [key, s] : segments) {
    auto text = texts.find(key);
    auto wav = wavs.find(s.recording);
    if (text == texts.end()) {
      skips.add(SkipReason::audio_without_transcript, key);
      continue;
    }
    if (wav == wavs.end()) {
      skips.add(SkipReason::transcript_without_audio, key);
      continue;
    }
    Utterance u{key, wav->second, normalize_text(text->second.rest), s.start, s.end};
    if (u.text.empty()) {
      skips.add(SkipReason::empty_transcript, key);
      continue;
    }
    double seconds = durations(u.audio);
    if (seconds == -1) {
      skips.add(SkipReason::missing_audio, u.audio);
    } else if (seconds < 0 || !fit_segment(u, seconds)) {
      skips.add(SkipReason::bad_audio, key);
    } else {
      if (!has_segments) u.end = -1;  // a whole recording stays "to the end of the file"
      out.push_back(std::move(u));
    }
  }
  for (const auto& [key, e] : texts)
    if (!segments.count(key)) skips.add(SkipReason::transcript_without_audio, key);
  return out;  // in key order: segments is a map
}

}  // namespace asr
