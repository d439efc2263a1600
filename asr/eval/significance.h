// Is system B's word error rate different from system A's on the same test set? Two tests
// over the utterances both decoded, each aligned to its reference as asr/eval/wer.h does:
//
// Paired bootstrap (Bisani & Ney, ICASSP 2004). Utterance i has n_i reference words and
// e_i(A), e_i(B) errors (sub + del + ins). The observed difference is
// ΔWER = Σ(e_i(B) - e_i(A)) / Σ n_i. Each of `resamples` resamples draws N utterances with
// replacement (index = the next std::mt19937_64 output mod N; the generator is seeded with
// `seed`, so a run is reproducible on any platform) and computes the same ratio over them
// (0 for a resample without reference words). The 95% interval is the 2.5th and 97.5th
// percentiles of the sorted resampled differences d*: d*[floor(0.025 B)] and
// d*[ceil(0.975 B) - 1] for B resamples (entries 25 and 974 of 1000). The probability of
// improvement is the fraction of resamples in which B makes fewer errors (d* < 0).
//
// Matched Pairs Sentence-Segment Word Error test, MAPSSWE (Gillick & Cox, ICASSP 1989), as
// NIST sctk's sc_stats computes it (-t mapsswe, its default of 2 boundary words). Per
// utterance, a reference word is "good" when both systems have it correct. Every run of at
// least `min_good` consecutive good words with no inserted word (of either system) between
// them separates segments; the utterance's start and end separate them too; so a segment is
// a maximal stretch of the alignment that holds an error of A or of B and no such run.
// Errors of a system in a segment: its substituted and deleted reference words there plus
// the words it inserted there (an insertion lies between the reference words around it; one
// before the first or after the last reference word belongs to the utterance's first or
// last segment). With d_j = errors of B - errors of A in segment j over the n segments:
// Z = mean(d) / (sd(d) / sqrt(n)), sd with n - 1 in the denominator, and the two-sided
// p = 2 (1 - Φ(|Z|)) = erfc(|Z| / √2) with the exact normal distribution (sc_stats reads Φ
// off a table, rounding down, so its p is slightly larger). Degenerate cases, where sd is
// 0 or undefined: n < 2, or all d_j equal to 0 (identical errors in every segment; sc_stats'
// case too): Z = 0, p = 1; all d_j equal to the same nonzero value (n >= 2): Z = ±infinity,
// p = 0 (there sc_stats reports Z = 0, no difference).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "asr/eval/wer.h"

namespace asr {

// One utterance as both systems decoded it: each system's alignment to the reference. The
// units are words, or characters for the same bootstrap over the CER (PairedRuns'
// characters; MAPSSWE is a word test).
struct PairedUtterance {
  std::string id;
  int64_t ref_words = 0;  // reference units
  std::vector<Edit> a, b;
};

PairedUtterance pair_utterance(const std::string& id, const std::vector<std::string>& ref,
                               const std::vector<std::string>& hyp_a,
                               const std::vector<std::string>& hyp_b);

// Both runs' utterances, aligned by words and by characters (split_chars of the words joined
// by spaces, as the CER counts them), in the same order.
struct PairedRuns {
  std::vector<PairedUtterance> words, characters;
};

// The utterances of two asr-eval --out folders (DIR/ref.trn, DIR/hyp.trn) paired by utterance
// id, in dir_a's order. Throws ag::Error naming both files for an id only one of them holds
// (in a folder's ref.trn and hyp.trn, or in the two folders' ref.trn) and for an utterance
// whose reference words differ between the folders.
PairedRuns read_paired(const std::string& dir_a, const std::string& dir_b);

struct BootstrapResult {
  double wer_a = 0, wer_b = 0;   // observed, fractions
  double delta = 0;              // wer_b - wer_a
  double ci_low = 0, ci_high = 0;  // 95% interval of delta
  double prob_improvement = 0;   // fraction of resamples where B makes fewer errors
  int64_t resamples = 0;
  uint64_t seed = 0;
  // x relative to the baseline's error rate (x / wer_a: its WER, or CER over characters); NaN
  // when wer_a is 0.
  double relative(double x) const;
};

// Throws ag::Error for no utterances, no reference words or fewer than 1000 resamples.
BootstrapResult paired_bootstrap(const std::vector<PairedUtterance>& utts,
                                 int64_t resamples = 1000, uint64_t seed = 1);

struct MapssweResult {
  int64_t segments = 0;
  double mean = 0, sd = 0;  // of d = errors of B - errors of A per segment
  double z = 0, p = 1;
  int64_t min_good = 2;
};

MapssweResult mapsswe(const std::vector<PairedUtterance>& utts, int64_t min_good = 2);

}  // namespace asr
