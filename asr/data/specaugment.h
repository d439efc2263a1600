// SpecAugment (Park et al. 2019) with ESPnet's LibriSpeech-100 defaults: frequency masks,
// time masks as a fraction of the length, optional time warp (linear re-interpolation with the
// first and last frames fixed; ESPnet's is bicubic); all seeded. Details: docs/data.md.
#pragma once
#include <random>

#include "autograd/tensor.h"
#include "asr/config/config.h"

namespace asr {

// feats [T, F] -> augmented copy. Masked values are set to 0 (the CMVN-normalized mean).
ag::Tensor spec_augment(const ag::Tensor& feats, const SpecAugmentConfig& c, std::mt19937_64& rng);

}  // namespace asr
