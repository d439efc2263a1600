// What a file's header (or, for MPEG audio, its frame headers) says about its length.
// libsndfile trims a truncated WAV or SPHERE file's length to the bytes present without an
// error, and estimates the length of an MP3 without a Xing/Info tag from its first frame and
// then stops decoding there; comparing the two finds both.
#pragma once
#include <cstdint>
#include <string>

namespace asr {

// Samples a decoder may drop from an MPEG stream with a LAME/Xing tag: the tag's own frame
// (at most 1152 samples) plus the encoder delay and padding it declares (12 bits each).
inline constexpr int64_t kMpegTrimmedSamples = 1152 + 2 * 4095;

// Frames the header of `path` declares (WAV: data chunk bytes / block align; SPHERE:
// sample_count), or -1 where it declares none (other formats, streaming placeholders).
// MPEG audio (.mp3, .mp2): the samples its frames hold less kMpegTrimmedSamples, a lower bound
// of its decoded length.
int64_t declared_frames(const std::string& path);

}  // namespace asr
