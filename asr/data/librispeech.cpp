// LibriSpeech layout reader. An utterance's audio is the file of its chapter folder named
// <id>.<ext> for any extension libsndfile reads (is_audio_extension): <id>.flac when there are
// several, else <id>.wav, else the first by extension, in any case (so the MP3 copies of
// LibriSpeech read like the original).
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <tuple>

#include "asr/data/audio.h"
#include "asr/data/corpus.h"
#include "asr/data/tokenizer.h"

namespace asr {
namespace fs = std::filesystem;

namespace {

// Which of two audio files of one utterance to read: .flac, then .wav, then by extension, in
// any case (.FLAC is a FLAC file to is_audio_extension too).
bool preferred(const fs::path& a, const fs::path& b) {
  auto key = [](const fs::path& p) {
    std::string ext = lower_extension(p.extension().string());
    int rank = ext == ".flac" ? 0 : ext == ".wav" ? 1 : 2;
    return std::tuple(rank, ext, p.extension().string());
  };
  return key(a) < key(b);
}

struct Chapter {
  std::vector<fs::path> transcripts;
  std::map<std::string, fs::path> audio;  // id -> file
};

// Every folder under `root` holding transcripts or audio.
std::map<fs::path, Chapter> scan(const fs::path& root) {
  std::map<fs::path, Chapter> chapters;
  std::error_code ec;
  auto opts = fs::directory_options::follow_directory_symlink;
  for (fs::recursive_directory_iterator it(root, opts, ec), end; !ec && it != end;
       it.increment(ec)) {
    if (!it->is_regular_file()) continue;
    const fs::path& p = it->path();
    if (is_librispeech_transcript(p.filename().string())) {
      chapters[p.parent_path()].transcripts.push_back(p);
    } else if (is_audio_extension(p.extension().string())) {
      auto [at, added] = chapters[p.parent_path()].audio.emplace(p.stem().string(), p);
      if (!added && preferred(p, at->second)) at->second = p;
    }
  }
  if (ec) throw CorpusError(root.string() + ": cannot list the folder: " + ec.message());
  return chapters;
}

// Adds the utterances of one transcript file; marks the ids it names in `named`.
void read_transcript(const fs::path& file, const Chapter& chapter, std::set<std::string>& named,
                     std::vector<Utterance>& out, SkipCounts& skips) {
  std::ifstream in(file);
  if (!in) throw CorpusError(file.string() + ": cannot open the transcript");
  std::string line;
  for (int64_t line_no = 1; std::getline(in, line); ++line_no) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    size_t id_begin = line.find_first_not_of(" \t");
    if (id_begin == std::string::npos) continue;
    size_t id_end = line.find_first_of(" \t", id_begin);
    std::string id = line.substr(id_begin, id_end - id_begin);
    std::string text = id_end == std::string::npos ? "" : normalize_text(line.substr(id_end));
    if (!named.insert(id).second)
      throw CorpusError(file.string() + ":" + std::to_string(line_no) + ": id '" + id +
                        "' appears twice");
    auto audio = chapter.audio.find(id);
    if (audio == chapter.audio.end()) {
      skips.add(SkipReason::transcript_without_audio, id);
    } else if (text.empty()) {
      skips.add(SkipReason::empty_transcript, id);
    } else {
      Utterance u{id, audio->second.string(), text};
      try {
        u.duration = audio_duration(u.audio);
        out.push_back(std::move(u));
      } catch (const AudioError&) {
        skips.add(SkipReason::bad_audio, u.audio);
      }
    }
  }
}

}  // namespace

bool is_librispeech_transcript(const std::string& filename) {
  static const std::string suffix = ".trans.txt";
  return filename.size() > suffix.size() &&
         filename.compare(filename.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::vector<Utterance> read_librispeech(const std::string& split_dir, SkipCounts& skips) {
  if (!fs::is_directory(split_dir)) throw CorpusError(split_dir + ": corpus folder not found");
  std::map<fs::path, Chapter> chapters = scan(split_dir);
  bool any_transcript = std::any_of(chapters.begin(), chapters.end(),
                                    [](const auto& c) { return !c.second.transcripts.empty(); });
  if (!any_transcript)
    throw CorpusError(split_dir +
                      ": no LibriSpeech transcripts (<speaker>-<chapter>.trans.txt) here");
  std::vector<Utterance> out;
  for (auto& [dir, chapter] : chapters) {
    std::sort(chapter.transcripts.begin(), chapter.transcripts.end());
    std::set<std::string> named;
    for (const fs::path& t : chapter.transcripts) read_transcript(t, chapter, named, out, skips);
    for (const auto& [id, path] : chapter.audio)
      if (!named.count(id)) skips.add(SkipReason::audio_without_transcript, path.string());
  }
  std::sort(out.begin(), out.end(),
            [](const Utterance& a, const Utterance& b) { return a.key < b.key; });
  return out;
}

}  // namespace asr
