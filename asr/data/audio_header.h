// What a WAV or NIST SPHERE header declares about its length. libsndfile trims a truncated
// file's length to the bytes present without an error; comparing the two finds truncation.
#pragma once
#include <cstdint>
#include <string>

namespace asr {

// Frames the header of `path` declares (WAV: data chunk bytes / block align; SPHERE:
// sample_count), or -1 where it declares none (other formats, streaming placeholders).
int64_t declared_frames(const std::string& path);

}  // namespace asr
