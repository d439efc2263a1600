#include "asr/eval/significance.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <random>

#include "autograd/error.h"

namespace asr {

namespace {
int64_t errors_of(const std::vector<Edit>& edits) {
  return std::count_if(edits.begin(), edits.end(), [](Edit e) { return e != Edit::correct; });
}

// A trn file's lines by utterance id.
std::map<std::string, const TrnLine*> by_id(const std::vector<TrnLine>& lines) {
  std::map<std::string, const TrnLine*> m;
  for (const auto& l : lines) m[l.id] = &l;
  return m;
}

// Both files hold the same utterance ids; else an error naming both and an id one lacks.
void check_same_ids(const std::vector<TrnLine>& x, const std::string& x_path,
                    const std::vector<TrnLine>& y, const std::string& y_path) {
  auto mx = by_id(x), my = by_id(y);
  for (const auto& [id, line] : mx)
    AG_CHECK(my.count(id), "utterance ", id, " is in ", x_path, " but not in ", y_path,
             " (the runs must decode the same utterances)");
  for (const auto& [id, line] : my)
    AG_CHECK(mx.count(id), "utterance ", id, " is in ", y_path, " but not in ", x_path,
             " (the runs must decode the same utterances)");
}

// Per utterance, where each system's errors fall: err[k] for reference word k (sub, del),
// ins[g] for the words inserted before reference word g (g = R: after the last one).
struct ErrorPositions {
  std::vector<int64_t> err, ins;
};

ErrorPositions positions(const std::vector<Edit>& edits, int64_t ref_words) {
  ErrorPositions p{std::vector<int64_t>(ref_words, 0), std::vector<int64_t>(ref_words + 1, 0)};
  int64_t k = 0;
  for (Edit e : edits) {
    if (e == Edit::ins) {
      ++p.ins[k];
    } else {
      p.err[k] += e != Edit::correct;
      ++k;
    }
  }
  return p;
}

// The per-segment differences (errors of B - errors of A) of one utterance.
void segment_differences(const PairedUtterance& u, int64_t min_good, std::vector<int64_t>& d) {
  const ErrorPositions a = positions(u.a, u.ref_words), b = positions(u.b, u.ref_words);
  int64_t err_a = 0, err_b = 0, good = 0;
  bool open = false;  // a segment has begun (holds an error) and not yet ended
  for (int64_t k = 0; k <= u.ref_words; ++k) {
    if (a.ins[k] + b.ins[k] > 0) {  // an insertion breaks a run of good words
      err_a += a.ins[k], err_b += b.ins[k];
      open = true, good = 0;
    }
    if (k == u.ref_words) break;
    if (a.err[k] == 0 && b.err[k] == 0) {
      if (++good == min_good && open) {
        d.push_back(err_b - err_a);
        err_a = err_b = 0, open = false;
      }
    } else {
      err_a += a.err[k], err_b += b.err[k];
      open = true, good = 0;
    }
  }
  if (open) d.push_back(err_b - err_a);
}
}  // namespace

PairedUtterance pair_utterance(const std::string& id, const std::vector<std::string>& ref,
                               const std::vector<std::string>& hyp_a,
                               const std::vector<std::string>& hyp_b) {
  return {id, static_cast<int64_t>(ref.size()), align(ref, hyp_a), align(ref, hyp_b)};
}

PairedRuns read_paired(const std::string& dir_a, const std::string& dir_b) {
  const std::string ref_a = dir_a + "/ref.trn", hyp_a = dir_a + "/hyp.trn";
  const std::string ref_b = dir_b + "/ref.trn", hyp_b = dir_b + "/hyp.trn";
  const std::vector<TrnLine> ra = read_trn(ref_a), ha = read_trn(hyp_a);
  const std::vector<TrnLine> rb = read_trn(ref_b), hb = read_trn(hyp_b);
  check_same_ids(ra, ref_a, ha, hyp_a);
  check_same_ids(rb, ref_b, hb, hyp_b);
  check_same_ids(ra, ref_a, rb, ref_b);
  auto ha_of = by_id(ha), rb_of = by_id(rb), hb_of = by_id(hb);
  // The characters of a transcript's words joined by spaces, as the CER counts them.
  auto chars = [](const std::vector<std::string>& words) {
    std::string text;
    for (const auto& w : words) text += (text.empty() ? "" : " ") + w;
    return split_chars(text);
  };
  PairedRuns out;
  for (const TrnLine& r : ra) {
    AG_CHECK(rb_of[r.id]->words == r.words, "utterance ", r.id, " has another reference in ",
             ref_a, " than in ", ref_b);
    const std::vector<std::string>&a = ha_of[r.id]->words, &b = hb_of[r.id]->words;
    out.words.push_back(pair_utterance(r.id, r.words, a, b));
    out.characters.push_back(pair_utterance(r.id, chars(r.words), chars(a), chars(b)));
  }
  return out;
}

double BootstrapResult::relative(double x) const {
  return wer_a > 0 ? x / wer_a : std::numeric_limits<double>::quiet_NaN();
}

BootstrapResult paired_bootstrap(const std::vector<PairedUtterance>& utts, int64_t resamples,
                                 uint64_t seed) {
  AG_CHECK(!utts.empty(), "paired bootstrap: no utterances");
  AG_CHECK(resamples >= 1000, "paired bootstrap: ", resamples,
           " resamples; 1000 or more are needed for a 95% interval");
  const size_t n = utts.size();
  std::vector<int64_t> diff(n), words(n);
  int64_t err_a = 0, err_b = 0, total = 0;
  for (size_t i = 0; i < n; ++i) {
    const int64_t ea = errors_of(utts[i].a), eb = errors_of(utts[i].b);
    diff[i] = eb - ea, words[i] = utts[i].ref_words;
    err_a += ea, err_b += eb, total += words[i];
  }
  AG_CHECK(total > 0, "paired bootstrap: the references hold no words");
  BootstrapResult r;
  r.wer_a = static_cast<double>(err_a) / static_cast<double>(total);
  r.wer_b = static_cast<double>(err_b) / static_cast<double>(total);
  r.delta = static_cast<double>(err_b - err_a) / static_cast<double>(total);
  r.resamples = resamples, r.seed = seed;
  std::mt19937_64 rng(seed);
  std::vector<double> deltas(static_cast<size_t>(resamples));
  int64_t better = 0;
  for (double& delta : deltas) {
    int64_t d = 0, w = 0;
    for (size_t k = 0; k < n; ++k) {
      const size_t i = static_cast<size_t>(rng() % n);
      d += diff[i], w += words[i];
    }
    delta = w > 0 ? static_cast<double>(d) / static_cast<double>(w) : 0.0;
    better += d < 0;
  }
  std::sort(deltas.begin(), deltas.end());
  const auto B = static_cast<double>(resamples);
  r.ci_low = deltas[static_cast<size_t>(std::floor(0.025 * B))];
  r.ci_high = deltas[static_cast<size_t>(std::ceil(0.975 * B)) - 1];
  r.prob_improvement = static_cast<double>(better) / B;
  return r;
}

MapssweResult mapsswe(const std::vector<PairedUtterance>& utts, int64_t min_good) {
  AG_CHECK(min_good >= 1, "MAPSSWE: min_good must be at least 1, got ", min_good);
  std::vector<int64_t> d;
  for (const auto& u : utts) segment_differences(u, min_good, d);
  MapssweResult r;
  r.min_good = min_good;
  r.segments = static_cast<int64_t>(d.size());
  if (d.empty()) return r;
  const auto n = static_cast<double>(d.size());
  double sum = 0;
  for (int64_t x : d) sum += static_cast<double>(x);
  r.mean = sum / n;
  if (d.size() < 2) return r;  // no variance from one segment: Z = 0, p = 1
  double ss = 0;
  for (int64_t x : d) ss += (static_cast<double>(x) - r.mean) * (static_cast<double>(x) - r.mean);
  r.sd = std::sqrt(ss / (n - 1));
  if (r.sd == 0) {  // every segment differs by the same amount
    if (r.mean != 0) r.z = std::copysign(std::numeric_limits<double>::infinity(), r.mean), r.p = 0;
    return r;
  }
  r.z = r.mean / (r.sd / std::sqrt(n));
  r.p = std::erfc(std::fabs(r.z) / std::sqrt(2.0));
  return r;
}

}  // namespace asr
