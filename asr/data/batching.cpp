#include "asr/data/batching.h"

#include <algorithm>
#include <cstring>
#include <numeric>
#include <random>

namespace asr {

Batch pad_batch(std::vector<Example> examples) {
  AG_CHECK(!examples.empty(), "pad_batch: no examples");
  const int64_t width = examples[0].feats.size(1);
  int64_t max_t = 0;
  for (const Example& e : examples) {
    AG_CHECK(e.feats.dim() == 2 && e.feats.size(1) == width, "pad_batch: features of '", e.key,
             "' are ", ag::shape_str(e.feats.shape()), ", expected [T,", width, "]");
    max_t = std::max(max_t, e.feats.size(0));
  }
  Batch b;
  b.feats = ag::zeros({static_cast<int64_t>(examples.size()), max_t, width});  // [B, T_max, F]
  for (size_t i = 0; i < examples.size(); ++i) {
    Example& e = examples[i];
    std::memcpy(b.feats.data() + i * max_t * width, e.feats.data(),
                e.feats.numel() * sizeof(float));
    b.lengths.push_back(e.feats.size(0));
    b.targets.push_back(std::move(e.targets));
    b.keys.push_back(std::move(e.key));
    b.texts.push_back(std::move(e.text));
  }
  return b;
}

std::vector<std::vector<size_t>> make_batches(const std::vector<int64_t>& frames,
                                              const std::vector<std::string>& keys,
                                              const BatchingOptions& o, SkipCounts& skips) {
  AG_CHECK(frames.size() == keys.size(), "make_batches: ", frames.size(), " lengths for ",
           keys.size(), " keys");
  std::vector<size_t> kept;
  for (size_t i = 0; i < frames.size(); ++i) {
    if (frames[i] < o.min_frames)
      skips.add(SkipReason::below_min_frames, keys[i]);
    else if (frames[i] > o.max_frames)
      skips.add(SkipReason::above_max_frames, keys[i]);
    else
      kept.push_back(i);
  }
  std::stable_sort(kept.begin(), kept.end(),
                   [&](size_t a, size_t b) { return frames[a] < frames[b]; });
  std::vector<std::vector<size_t>> batches;
  for (size_t i : kept) {
    // Sorted ascending, so the newcomer is the longest in its batch.
    bool fits = !batches.empty() &&
                static_cast<int64_t>(batches.back().size() + 1) * frames[i] <= o.batch_frames;
    if (!fits) batches.emplace_back();
    batches.back().push_back(i);
  }
  return batches;
}

uint64_t mix_seed(uint64_t seed, uint64_t a, uint64_t b) {
  auto step = [](uint64_t x) {
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
  };
  return step(step(step(seed) ^ a) ^ b);
}

std::vector<size_t> shuffled_order(size_t n, uint64_t seed, int64_t epoch) {
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), size_t{0});
  // Fisher-Yates on mt19937_64, whose output the standard fixes (std::shuffle's is not).
  std::mt19937_64 rng(mix_seed(seed, static_cast<uint64_t>(epoch)));
  for (size_t i = n; i > 1; --i) std::swap(order[i - 1], order[rng() % i]);
  return order;
}

}  // namespace asr
