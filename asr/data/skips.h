// Utterances left out of a data set, counted by reason, each reason with its first example.
// Readers, asr-prepare, the batcher and the loader all report through this one type.
#pragma once
#include <array>
#include <cstdint>
#include <string>

namespace asr {

// Fewest fbank frames the 4x Conv2d subsampling turns into at least one encoder frame.
inline constexpr int64_t kMinUtteranceFrames = 7;

enum class SkipReason : int {
  transcript_without_audio,  // a transcript line whose audio file is not there
  audio_without_transcript,  // an audio file no transcript line names
  empty_transcript,          // nothing left to recognize after normalization
  ignored_segment,           // TED-LIUM ignore_time_segment_in_scoring
  missing_audio,             // the audio file does not exist (any more)
  bad_audio,                 // unreadable, corrupt or empty audio, or a segment outside it
  unknown_character,         // text the tokenizer cannot encode
  too_short,                 // under kMinUtteranceFrames fbank frames
  below_min_frames,          // shorter than data.min_frames
  above_max_frames,          // longer than data.max_frames
};
inline constexpr int kNumSkipReasons = 10;

// "transcript without audio", ...
const char* skip_reason_name(SkipReason r);

class SkipCounts {
 public:
  // `what` names the utterance or file (kept as the example of the first one).
  void add(SkipReason r, const std::string& what);
  int64_t count(SkipReason r) const { return counts_[static_cast<int>(r)]; }
  int64_t total() const;
  void merge(const SkipCounts& o);
  // One line per reason that occurred: "  12 empty transcript (e.g. 1011-1-0311)"; "" if none.
  std::string summary() const;

 private:
  std::array<int64_t, kNumSkipReasons> counts_{};
  std::array<std::string, kNumSkipReasons> examples_{};
};

}  // namespace asr
