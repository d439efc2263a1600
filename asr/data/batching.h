// Length-bucketed batching: utterances sorted by length and cut into batches whose padded
// size (utterances * longest) stays within a frame budget; batch order shuffled per epoch.
#pragma once
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "autograd/tensor.h"
#include "asr/data/skips.h"

namespace asr {

// Padded features of a few utterances, ready for the model and the CTC loss.
struct Batch {
  ag::Tensor feats;                           // [B, T_max, F] float32, 0 past each length
  std::vector<int64_t> lengths;               // [B] valid frames
  std::vector<std::vector<int64_t>> targets;  // B token-id sequences (ids >= 1)
  std::vector<std::string> keys;              // [B]
  std::vector<std::string> texts;             // [B] normalized transcripts (for WER)
  int64_t size() const { return static_cast<int64_t>(keys.size()); }
};

// One utterance's contribution to a batch.
struct Example {
  ag::Tensor feats;  // [T, F]
  std::vector<int64_t> targets;
  std::string key;
  std::string text;
};

// Stacks examples (in order) into [B, T_max, F], zero-padded. Throws ag::Error if empty or if
// the feature widths differ.
Batch pad_batch(std::vector<Example> examples);

struct BatchingOptions {
  int64_t batch_frames = 100000;                             // B * T_max budget
  int64_t min_frames = 0;                                    // shorter utterances are skipped
  int64_t max_frames = std::numeric_limits<int64_t>::max();  // longer ones are skipped
};

// frames[i]: utterance i's length; keys[i] names it in `skips`. Returns batches of indices,
// shortest utterances first, each with size * longest <= batch_frames except an utterance
// longer than batch_frames, which goes alone. Utterances outside [min_frames, max_frames] are
// left out and counted. Depends on the lengths only (ties broken by index).
std::vector<std::vector<size_t>> make_batches(const std::vector<int64_t>& frames,
                                              const std::vector<std::string>& keys,
                                              const BatchingOptions& o, SkipCounts& skips);

// A permutation of [0, n): the same for the same (seed, epoch), different across epochs.
std::vector<size_t> shuffled_order(size_t n, uint64_t seed, int64_t epoch);

// A well-mixed 64-bit seed from a seed and two counters (splitmix64 steps).
uint64_t mix_seed(uint64_t seed, uint64_t a, uint64_t b = 0);

}  // namespace asr
