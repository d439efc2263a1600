#include "asr/data/skips.h"

#include <numeric>

namespace asr {

const char* skip_reason_name(SkipReason r) {
  switch (r) {
    case SkipReason::transcript_without_audio:
      return "transcript without audio";
    case SkipReason::audio_without_transcript:
      return "audio without transcript";
    case SkipReason::empty_transcript:
      return "empty transcript";
    case SkipReason::ignored_segment:
      return "ignored segment";
    case SkipReason::missing_audio:
      return "missing audio file";
    case SkipReason::bad_audio:
      return "unreadable audio";
    case SkipReason::unknown_character:
      return "text outside the tokenizer";
    case SkipReason::too_short:
      return "too short for 4x subsampling";
    case SkipReason::below_min_frames:
      return "shorter than min_frames";
    case SkipReason::above_max_frames:
      return "longer than max_frames";
  }
  return "?";
}

void SkipCounts::add(SkipReason r, const std::string& what) {
  int i = static_cast<int>(r);
  if (counts_[i]++ == 0) examples_[i] = what;
}

int64_t SkipCounts::total() const {
  return std::accumulate(counts_.begin(), counts_.end(), int64_t{0});
}

void SkipCounts::merge(const SkipCounts& o) {
  for (int i = 0; i < kNumSkipReasons; ++i) {
    if (counts_[i] == 0) examples_[i] = o.examples_[i];
    counts_[i] += o.counts_[i];
  }
}

std::string SkipCounts::summary() const {
  std::string s;
  for (int i = 0; i < kNumSkipReasons; ++i) {
    if (counts_[i] == 0) continue;
    s += "  " + std::to_string(counts_[i]) + " " + skip_reason_name(static_cast<SkipReason>(i)) +
         " (e.g. " + examples_[i] + ")\n";
  }
  return s;
}

}  // namespace asr
