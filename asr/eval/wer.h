// Word and character error rates by Levenshtein alignment, with substitution, deletion and
// insertion counts (as NIST sclite counts them), and sclite's trn format.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace asr {

struct ErrorCounts {
  int64_t sub = 0, del = 0, ins = 0, ref = 0;  // ref: reference words (or characters)
  int64_t errors() const { return sub + del + ins; }
  double rate() const { return ref ? static_cast<double>(errors()) / static_cast<double>(ref) : 0.0; }
  ErrorCounts& operator+=(const ErrorCounts& o);
};

// Alignment of hyp to ref with NIST sclite's costs (substitution 4, insertion and deletion
// 3), so the counts are sclite's; a substitution beats a deletion plus an insertion.
ErrorCounts align_counts(const std::vector<std::string>& ref, const std::vector<std::string>& hyp);
std::vector<std::string> split_words(const std::string& text);
// Characters of the text; each run of whitespace between words counts as one " " symbol
// (as ESPnet's CER, which maps spaces to <space>).
std::vector<std::string> split_chars(const std::string& text);

ErrorCounts word_errors(const std::string& ref, const std::string& hyp);
ErrorCounts char_errors(const std::string& ref, const std::string& hyp);

// "WORDS (utterance-id)\n", a line of sclite's trn format (`sclite -i rm` takes the speaker
// from the id's part before the first '-').
std::string trn_line(const std::string& text, const std::string& utterance_id);

}  // namespace asr
