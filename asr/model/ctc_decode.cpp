#include "asr/model/ctc_decode.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>

#include "autograd/ops.h"

namespace asr {
namespace {

constexpr float kNegInf = -std::numeric_limits<float>::infinity();

float log_add(float a, float b) {
  if (a == kNegInf) return b;
  if (b == kNegInf) return a;
  return std::max(a, b) + std::log1p(std::exp(-std::fabs(a - b)));
}

// Probability of a prefix split by how its last frame ended: in a blank or in its last token.
struct PrefixScore {
  float blank = kNegInf, token = kNegInf;
  float total() const { return log_add(blank, token); }
};

void check_input(const ag::Tensor& log_probs, int64_t length, const char* who) {
  AG_CHECK(log_probs.dim() == 2 && log_probs.device() == ag::Device::cpu, who,
           ": log_probs ", ag::shape_str(log_probs.shape()), " are not a CPU [T, V] tensor");
  AG_CHECK(length >= 0 && length <= log_probs.size(0), who, ": length ", length,
           " outside [0, ", log_probs.size(0), "]");
}

}  // namespace

std::vector<int64_t> ctc_greedy(const ag::Tensor& log_probs, int64_t length) {
  check_input(log_probs, length, "ctc_greedy");
  const int64_t V = log_probs.size(1);
  const float* p = log_probs.data();
  std::vector<int64_t> out;
  int64_t prev = 0;
  for (int64_t t = 0; t < length; ++t) {
    int64_t best = std::max_element(p + t * V, p + (t + 1) * V) - (p + t * V);
    if (best != 0 && best != prev) out.push_back(best);
    prev = best;
  }
  return out;
}

std::vector<int64_t> ctc_prefix_beam_search(const ag::Tensor& log_probs, int64_t length,
                                            int beam_size) {
  return ctc_nbest(log_probs, length, beam_size).front().tokens;
}

std::vector<Hypothesis> ctc_nbest(const ag::Tensor& log_probs, int64_t length, int beam_size) {
  check_input(log_probs, length, "CTC prefix beam search");
  AG_CHECK(beam_size >= 1, "CTC prefix beam search: beam size ", beam_size, " < 1");
  const int64_t V = log_probs.size(1);
  const float* p = log_probs.data();
  std::map<std::vector<int64_t>, PrefixScore> beam;
  beam[{}].blank = 0.0f;
  std::vector<int64_t> candidates(V - 1);
  for (int64_t t = 0; t < length; ++t) {
    const float* lp = p + t * V;
    // Only this frame's beam_size most likely tokens can extend a prefix (as WeNet).
    for (int64_t k = 1; k < V; ++k) candidates[k - 1] = k;
    size_t top = std::min<size_t>(beam_size, candidates.size());
    std::partial_sort(candidates.begin(), candidates.begin() + top, candidates.end(),
                      [&](int64_t a, int64_t b) { return lp[a] > lp[b]; });
    std::map<std::vector<int64_t>, PrefixScore> next;
    for (const auto& [prefix, score] : beam) {
      // Stay on the same prefix: a blank, or a repeat of the last token without a blank.
      PrefixScore& same = next[prefix];
      same.blank = log_add(same.blank, score.total() + lp[0]);
      if (!prefix.empty()) same.token = log_add(same.token, score.token + lp[prefix.back()]);
      // Extend by token k; a repeat of the last token needs a blank in between.
      for (size_t c = 0; c < top; ++c) {
        const int64_t k = candidates[c];
        std::vector<int64_t> longer = prefix;
        longer.push_back(k);
        float from = (!prefix.empty() && prefix.back() == k) ? score.blank : score.total();
        PrefixScore& ext = next[longer];
        ext.token = log_add(ext.token, from + lp[k]);
      }
    }
    std::vector<std::pair<float, const std::vector<int64_t>*>> ranked;
    for (const auto& [prefix, score] : next) ranked.push_back({score.total(), &prefix});
    size_t keep = std::min<size_t>(beam_size, ranked.size());
    std::partial_sort(ranked.begin(), ranked.begin() + keep, ranked.end(),
                      [](const auto& a, const auto& b) { return a.first > b.first; });
    std::map<std::vector<int64_t>, PrefixScore> pruned;
    for (size_t i = 0; i < keep; ++i) pruned[*ranked[i].second] = next[*ranked[i].second];
    beam = std::move(pruned);
  }
  std::vector<Hypothesis> out;
  for (const auto& [prefix, score] : beam) out.push_back({prefix, score.total()});
  std::stable_sort(out.begin(), out.end(),
                   [](const Hypothesis& a, const Hypothesis& b) { return a.score > b.score; });
  return out;
}

std::vector<std::vector<int64_t>> ctc_decode(const ag::Tensor& log_probs,
                                             const std::vector<int64_t>& lengths, int beam_size) {
  AG_CHECK(log_probs.dim() == 3 && static_cast<int64_t>(lengths.size()) == log_probs.size(0),
           "ctc_decode: log_probs ", ag::shape_str(log_probs.shape()), " with ", lengths.size(),
           " lengths");
  ag::Tensor cpu = log_probs.device() == ag::Device::cpu ? log_probs
                                                         : ag::to_device(log_probs, ag::Device::cpu);
  const int64_t B = cpu.size(0), T = cpu.size(1), V = cpu.size(2);
  std::vector<std::vector<int64_t>> out(B);
  for (int64_t b = 0; b < B; ++b) {
    ag::Tensor one = ag::empty({T, V});
    std::copy(cpu.data() + b * T * V, cpu.data() + (b + 1) * T * V, one.data());
    out[b] = beam_size <= 1 ? ctc_greedy(one, lengths[b])
                            : ctc_prefix_beam_search(one, lengths[b], beam_size);
  }
  return out;
}

}  // namespace asr
