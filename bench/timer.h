// Timing for benchmarks: median of repeated runs after warm-up.
#pragma once
#include <algorithm>
#include <chrono>
#include <vector>

namespace bench {

// Median milliseconds of fn() over at least `min_reps` runs and ~`min_seconds` of work.
template <class Fn>
double median_ms(Fn&& fn, int warmup = 3, int min_reps = 10, double min_seconds = 0.5) {
  using clock = std::chrono::steady_clock;
  for (int i = 0; i < warmup; ++i) fn();
  std::vector<double> ms;
  auto start = clock::now();
  while (static_cast<int>(ms.size()) < min_reps ||
         std::chrono::duration<double>(clock::now() - start).count() < min_seconds) {
    auto t0 = clock::now();
    fn();
    ms.push_back(std::chrono::duration<double, std::milli>(clock::now() - t0).count());
    if (ms.size() >= 1000) break;
  }
  std::nth_element(ms.begin(), ms.begin() + ms.size() / 2, ms.end());
  return ms[ms.size() / 2];
}

}  // namespace bench
