// Word and character error rates by Levenshtein alignment, with substitution, deletion and
// insertion counts (as NIST sclite counts them), and sclite's trn format.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "asr/data/tokenizer.h"  // split_words

namespace asr {

struct ErrorCounts {
  int64_t sub = 0, del = 0, ins = 0, ref = 0;  // ref: reference words (or characters)
  int64_t errors() const { return sub + del + ins; }
  double rate() const { return ref ? static_cast<double>(errors()) / static_cast<double>(ref) : 0.0; }
  ErrorCounts& operator+=(const ErrorCounts& o);
};

// One step of an alignment: a reference word recognised (correct), replaced (sub) or missed
// (del), or a hypothesis word with no reference word (ins).
enum class Edit : char { correct, sub, del, ins };

// Alignment of hyp to ref with NIST sclite's costs (substitution 4, insertion and deletion
// 3): the edits in reading order, one per reference word (correct, sub or del) plus one per
// inserted word. A substitution beats a deletion plus an insertion.
std::vector<Edit> align(const std::vector<std::string>& ref, const std::vector<std::string>& hyp);
// The counts of align(ref, hyp), so sclite's.
ErrorCounts align_counts(const std::vector<std::string>& ref, const std::vector<std::string>& hyp);
// Characters of the text; each run of whitespace between words counts as one " " symbol
// (as ESPnet's CER, which maps spaces to <space>).
std::vector<std::string> split_chars(const std::string& text);

ErrorCounts word_errors(const std::string& ref, const std::string& hyp);
ErrorCounts char_errors(const std::string& ref, const std::string& hyp);

// "WORDS (utterance-id)\n", a line of sclite's trn format (`sclite -i rm` takes the speaker
// from the id's part before the first '-').
std::string trn_line(const std::string& text, const std::string& utterance_id);

struct TrnLine {
  std::string id;
  std::vector<std::string> words;
};
// The lines of a trn file in file order (blank lines skipped). Throws ag::Error naming the
// file and line for a line that does not end in "(utterance-id)", and for an id seen twice.
std::vector<TrnLine> read_trn(const std::string& path);

}  // namespace asr
