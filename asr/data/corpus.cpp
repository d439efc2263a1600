// read_corpus's dispatch and what more than one reader needs: times and segments.
#include "asr/data/corpus.h"

#include <algorithm>
#include <charconv>
#include <cmath>

#include "asr/data/audio.h"

namespace asr {

std::vector<Utterance> read_corpus(const std::string& layout, const std::string& split_dir,
                                   bool keep_unk, SkipCounts& skips) {
  if (layout == "librispeech") return read_librispeech(split_dir, skips);
  if (layout == "tedlium") return read_tedlium(split_dir, keep_unk, skips);
  if (layout == "kaldi") return read_kaldi_dir(split_dir, skips);
  throw CorpusError("unknown corpus layout '" + layout + "' (librispeech | tedlium | kaldi)");
}

double parse_seconds(const std::string& field, const std::string& where) {
  double t = 0;
  auto [end, ec] = std::from_chars(field.data(), field.data() + field.size(), t);
  if (ec != std::errc() || end != field.data() + field.size() || !std::isfinite(t) || t < 0)
    throw CorpusError(where + ": bad time '" + field + "'");
  return t;
}

bool fit_segment(Utterance& u, double file_duration) {
  if (u.end < 0) u.end = file_duration;
  if (u.start >= file_duration || u.end > file_duration + kMaxSegmentOvershoot) return false;
  u.end = std::min(u.end, file_duration);
  u.duration = u.end - u.start;
  return true;
}

}  // namespace asr
