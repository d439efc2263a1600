#include "asr/convert/ranks.h"

#include <numeric>

#include "autograd/error.h"

namespace asr {

namespace {

double energy(const std::vector<double>& s) {
  return std::inner_product(s.begin(), s.end(), s.begin(), 0.0);
}

}  // namespace

double energy_kept(const std::vector<double>& s, int64_t r) {
  const double total = energy(s);
  double kept = 0;
  for (int64_t i = 0; i < r && i < static_cast<int64_t>(s.size()); ++i)
    kept += s[static_cast<size_t>(i)] * s[static_cast<size_t>(i)];
  return total > 0 ? kept / total : 1;
}

int64_t rank_for_energy(const std::vector<double>& s, double energy_fraction) {
  const double total = energy(s);
  double kept = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    kept += s[i] * s[i];
    if (kept >= energy_fraction * total * (1 - 1e-12)) return static_cast<int64_t>(i) + 1;
  }
  return static_cast<int64_t>(s.size());
}

std::vector<int64_t> allocate_ranks(const std::vector<std::vector<double>>& spectra,
                                    int64_t total_floats) {
  const int64_t layers = static_cast<int64_t>(spectra.size());
  AG_CHECK(layers >= 1, "allocate_ranks: no layers");
  AG_CHECK(total_floats >= layers, "a cache budget of ", total_floats,
           " floats per frame is below rank 1 in each of the ", layers, " layers (", layers,
           " floats)");
  std::vector<double> totals;
  for (const auto& s : spectra) {
    AG_CHECK(!s.empty(), "allocate_ranks: a layer without singular values");
    totals.push_back(energy(s));
  }
  std::vector<int64_t> ranks(spectra.size(), 1);
  for (int64_t used = layers; used < total_floats; ++used) {
    int64_t best = -1;
    double best_gain = -1;
    for (int64_t l = 0; l < layers; ++l) {
      const auto& s = spectra[static_cast<size_t>(l)];
      const auto r = static_cast<size_t>(ranks[static_cast<size_t>(l)]);
      if (r >= s.size()) continue;  // at its cap: exact already
      const double total = totals[static_cast<size_t>(l)];
      const double gain = total > 0 ? s[r] * s[r] / total : 0;  // D_l(R) - D_l(R + 1)
      if (gain > best_gain) {
        best = l;
        best_gain = gain;
      }
    }
    if (best < 0) break;  // every layer at its cap
    ++ranks[static_cast<size_t>(best)];
  }
  return ranks;
}

double discarded_energy(const std::vector<std::vector<double>>& spectra,
                        const std::vector<int64_t>& ranks) {
  AG_CHECK(spectra.size() == ranks.size(), "discarded_energy: ", ranks.size(), " ranks for ",
           spectra.size(), " layers");
  double sum = 0;
  for (size_t l = 0; l < spectra.size(); ++l) sum += 1 - energy_kept(spectra[l], ranks[l]);
  return sum;
}

}  // namespace asr
