// TED-LIUM (release 2/3) reader: stm segments of sph talks, read by seeking into the talk, and
// the text rules of Kaldi's tedlium s5_r2/s5_r3 local/prepare_data.sh, which ESPnet's tedlium2
// recipe runs as is.
#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>

#include "asr/data/audio.h"
#include "asr/data/corpus.h"
#include "asr/data/tokenizer.h"

namespace asr {
namespace fs = std::filesystem;

namespace {

bool is_tag(const std::string& w) { return w.size() >= 2 && w.front() == '<' && w.back() == '>'; }

// The stm label field: "<o,f0,male>", or release 2's dev "<F0_M>" / "<F0_F>".
bool is_label(const std::string& w) {
  return is_tag(w) && (w.find(',') != std::string::npos || w == "<F0_M>" || w == "<F0_F>");
}

// Noise and other non-speech marks: <sil>, <breath>, {NOISE}, [NOISE], ...; not <unk>.
bool is_noise(const std::string& w) {
  bool braced = w.size() >= 2 && ((w.front() == '{' && w.back() == '}') ||
                                  (w.front() == '[' && w.back() == ']'));
  return braced || (is_tag(w) && w != "<unk>");
}

bool is_unk(const std::string& w) { return w.rfind("<unk>", 0) == 0; }

// "word(2)" -> "word": pronunciation variants, "(digit)" anywhere (Kaldi: sed 's:([0-9])::g').
// Scanning on after each match, as sed's g does: an earlier "(" that opens no variant does not
// stop the scan.
std::string drop_variants(std::string w) {
  for (size_t at = 0; (at = w.find('(', at)) != std::string::npos;) {
    if (at + 2 < w.size() && std::isdigit(static_cast<unsigned char>(w[at + 1])) &&
        w[at + 2] == ')')
      w.erase(at, 3);
    else
      ++at;
  }
  return w;
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
  t.has_audio = audio_file_present(t.sph.string());
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
  size_t first = f.size() > 5 && is_label(f[5]) ? 6 : 5;
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
  std::vector<std::string> tokens;
  for (const std::string& w : split_words(text)) {
    std::string t = drop_variants(w);
    if (!t.empty() && !is_noise(t)) tokens.push_back(t);
  }
  // A final "(...)" names the utterance (Kaldi: sed 's:([^ ]*)$::').
  if (!tokens.empty() && tokens.back().back() == ')') {
    std::string& last = tokens.back();
    size_t open = last.rfind('(');
    if (open != std::string::npos) last.erase(open);
    if (last.empty()) tokens.pop_back();
  }
  // Each word takes the apostrophe suffix right after it, one at most (join_suffix.py).
  std::vector<std::string> words;
  for (size_t i = 0; i < tokens.size(); ++i) {
    bool join = i + 1 < tokens.size() && tokens[i + 1].front() == '\'';
    words.push_back(join ? tokens[i] + tokens[i + 1] : tokens[i]);
    i += join;
  }
  std::string out;
  for (const std::string& w : words) {
    if (is_unk(w) && !keep_unk) continue;
    if (!out.empty()) out += ' ';
    // Appended piece by piece: GCC 12 warns wrongly (-Wrestrict) on "<unk>" + string.
    if (is_unk(w)) out.append("<unk>").append(normalize_text(w.substr(5)));
    else out += normalize_text(w);
  }
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
