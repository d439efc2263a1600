#include "asr/eval/wer.h"

#include <algorithm>
#include <sstream>

namespace asr {

ErrorCounts& ErrorCounts::operator+=(const ErrorCounts& o) {
  sub += o.sub;
  del += o.del;
  ins += o.ins;
  ref += o.ref;
  return *this;
}

ErrorCounts align_counts(const std::vector<std::string>& ref, const std::vector<std::string>& hyp) {
  // NIST sclite's weights: a substitution costs 4, an insertion or a deletion 3, so its
  // counts (and so its WER) are what this alignment gives.
  constexpr int64_t kSub = 4, kIns = 3, kDel = 3;
  const size_t R = ref.size(), H = hyp.size();
  // cost[i][j]: cheapest edit of ref[:i] into hyp[:j]; backtrack on the same table.
  std::vector<std::vector<int64_t>> cost(R + 1, std::vector<int64_t>(H + 1));
  for (size_t i = 0; i <= R; ++i) cost[i][0] = kDel * static_cast<int64_t>(i);
  for (size_t j = 0; j <= H; ++j) cost[0][j] = kIns * static_cast<int64_t>(j);
  auto diag = [&](size_t i, size_t j) { return cost[i - 1][j - 1] + (ref[i - 1] == hyp[j - 1] ? 0 : kSub); };
  for (size_t i = 1; i <= R; ++i)
    for (size_t j = 1; j <= H; ++j)
      cost[i][j] = std::min({diag(i, j), cost[i - 1][j] + kDel, cost[i][j - 1] + kIns});
  ErrorCounts c;
  c.ref = static_cast<int64_t>(R);
  size_t i = R, j = H;
  while (i > 0 || j > 0) {
    if (i > 0 && j > 0 && cost[i][j] == diag(i, j)) {
      c.sub += ref[i - 1] != hyp[j - 1];
      --i, --j;
    } else if (i > 0 && cost[i][j] == cost[i - 1][j] + kDel) {
      ++c.del, --i;
    } else {
      ++c.ins, --j;
    }
  }
  return c;
}

std::vector<std::string> split_words(const std::string& text) {
  std::istringstream in(text);
  std::vector<std::string> out;
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

std::vector<std::string> split_chars(const std::string& text) {
  std::vector<std::string> out;
  bool space = false;
  for (char ch : text) {
    if (ch == ' ' || ch == '\t' || ch == '\n') {
      space = !out.empty();
      continue;
    }
    if (space) out.push_back(" ");
    space = false;
    out.push_back(std::string(1, ch));
  }
  return out;
}

ErrorCounts word_errors(const std::string& ref, const std::string& hyp) {
  return align_counts(split_words(ref), split_words(hyp));
}

ErrorCounts char_errors(const std::string& ref, const std::string& hyp) {
  return align_counts(split_chars(ref), split_chars(hyp));
}

std::string trn_line(const std::string& text, const std::string& utterance_id) {
  std::string words;
  for (const auto& w : split_words(text)) words += (words.empty() ? "" : " ") + w;
  return words + " (" + utterance_id + ")\n";
}

}  // namespace asr
