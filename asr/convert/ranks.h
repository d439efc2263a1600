// The latent size of each layer in a latent (mla, mla_simple) conversion, from the singular
// values s of the layer's W L (convert.h; calibrated: the whitened [W_k; W_v]), descending.
//
// Under a cache budget (asr-convert --cache-budget, --cache-fraction): a latent conversion
// caches R_l floats per frame in layer l, so a budget of F floats per frame (all layers) is a
// choice of ranks with sum_l R_l <= F. The proxy for the error a layer's truncation adds is the
// fraction of its spectrum's energy it discards,
//   D_l(R) = 1 - energy_kept(s_l, R) = sum_{i >= R} s_{l,i}^2 / sum_i s_{l,i}^2
// (calibrated: the layer's relative key/value error on the calibration frames, squared).
// allocate_ranks minimizes sum_l D_l(R_l): every layer starts at rank 1, then each further
// float goes to the layer whose next singular value carries the largest fraction of its
// layer's energy. Each D_l is convex in R (s descending), so the greedy choice is optimal.
#pragma once
#include <cstdint>
#include <vector>

namespace asr {

// sum_{i < r} s_i^2 / sum_i s_i^2 (1 for an all-zero s).
double energy_kept(const std::vector<double>& s, int64_t r);

// The smallest rank whose leading squared singular values keep at least `energy` of the sum.
int64_t rank_for_energy(const std::vector<double>& s, double energy);

// spectra[l]: layer l's singular values (its size caps the layer's rank: beyond it the latent
// adds nothing). total_floats: the budget. Returns R_l with 1 <= R_l <= spectra[l].size() and
// sum R_l = min(total_floats, sum of the caps); ties go to the lower layer. Throws ag::Error
// when the budget is below one float per layer.
std::vector<int64_t> allocate_ranks(const std::vector<std::vector<double>>& spectra,
                                    int64_t total_floats);

// sum_l D_l(R_l): the proxy allocate_ranks minimizes.
double discarded_energy(const std::vector<std::vector<double>>& spectra,
                        const std::vector<int64_t>& ranks);

}  // namespace asr
