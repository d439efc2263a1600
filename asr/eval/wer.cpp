#include "asr/eval/wer.h"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <set>

#include "autograd/error.h"

namespace asr {

ErrorCounts& ErrorCounts::operator+=(const ErrorCounts& o) {
  sub += o.sub;
  del += o.del;
  ins += o.ins;
  ref += o.ref;
  return *this;
}

std::vector<Edit> align(const std::vector<std::string>& ref, const std::vector<std::string>& hyp) {
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
  // Among equally cheap paths, sclite's: each cell comes from the diagonal when that is
  // cheapest (ties included), else from a deletion when strictly cheaper than an insertion,
  // else from an insertion.
  std::vector<Edit> edits;  // backwards, reversed at the end
  size_t i = R, j = H;
  while (i > 0 || j > 0) {
    if (i > 0 && j > 0 && cost[i][j] == diag(i, j)) {
      edits.push_back(ref[i - 1] == hyp[j - 1] ? Edit::correct : Edit::sub);
      --i, --j;
    } else if (i > 0 && (j == 0 || cost[i - 1][j] + kDel < cost[i][j - 1] + kIns)) {
      edits.push_back(Edit::del), --i;
    } else {
      edits.push_back(Edit::ins), --j;
    }
  }
  std::reverse(edits.begin(), edits.end());
  return edits;
}

ErrorCounts align_counts(const std::vector<std::string>& ref, const std::vector<std::string>& hyp) {
  ErrorCounts c;
  c.ref = static_cast<int64_t>(ref.size());
  for (Edit e : align(ref, hyp)) {
    c.sub += e == Edit::sub;
    c.del += e == Edit::del;
    c.ins += e == Edit::ins;
  }
  return c;
}

std::vector<std::string> split_chars(const std::string& text) {
  std::vector<std::string> out;
  bool space = false;
  for (char ch : text) {
    if (std::isspace(static_cast<unsigned char>(ch))) {
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

std::vector<TrnLine> read_trn(const std::string& path) {
  std::ifstream in(path);
  AG_CHECK(in.good(), path, " not found");
  std::vector<TrnLine> lines;
  std::set<std::string> seen;
  int64_t number = 0;
  for (std::string line; std::getline(in, line);) {
    ++number;
    while (!line.empty() && std::isspace(static_cast<unsigned char>(line.back()))) line.pop_back();
    if (split_words(line).empty()) continue;
    const size_t open = line.rfind('(');
    AG_CHECK(line.back() == ')' && open != std::string::npos && open + 2 < line.size(), path,
             ":", number, ": not a trn line (\"WORDS (utterance-id)\"): ", line);
    TrnLine t{line.substr(open + 1, line.size() - open - 2), split_words(line.substr(0, open))};
    AG_CHECK(seen.insert(t.id).second, path, ":", number, ": utterance ", t.id, " seen twice");
    lines.push_back(std::move(t));
  }
  return lines;
}

}  // namespace asr
