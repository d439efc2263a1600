// Global cepstral mean and variance normalization: statistics over the training set,
// computed by asr-prepare, stored as JSON in the data folder, applied when loading. A
// checkpoint carries the normalization alone, as mean and standard deviation per bin.
#pragma once
#include <string>
#include <vector>

#include "autograd/tensor.h"

namespace asr {

class Cmvn {
 public:
  // Accumulates feats [T, F] (F fixed by the first call). Throws ag::Error on a shape mismatch.
  void add(const ag::Tensor& feats);
  // Adds another accumulator's statistics (e.g. one per loader thread).
  void merge(const Cmvn& other);
  // (x - mean) / std per bin; feats [T, F] -> new tensor. Throws ag::Error without statistics
  // or on a shape mismatch.
  ag::Tensor apply(const ag::Tensor& feats) const;
  int64_t frames() const { return frames_; }
  int64_t dim() const {
    return static_cast<int64_t>(given() ? given_mean_.size() : sum_.size());
  }
  std::vector<float> mean() const;
  std::vector<float> stddev() const;          // floored at 1e-5
  void save(const std::string& path) const;   // atomic JSON {"frames", "sum", "sum_sq"}
  static Cmvn load(const std::string& path);  // throws naming the file
  // The normalization alone: applies exactly as the statistics whose mean() and stddev()
  // these are; it holds no frames, so it cannot add, merge or save. Throws naming `source`
  // for unequal lengths, no bins, a non-finite mean or a deviation below the floor (1e-5).
  static Cmvn from_mean_stddev(std::vector<float> mean, std::vector<float> stddev,
                               const std::string& source);

 private:
  bool given() const { return !given_mean_.empty(); }  // made by from_mean_stddev

  std::vector<double> sum_, sum_sq_;
  int64_t frames_ = 0;
  std::vector<float> given_mean_, given_stddev_;
};

}  // namespace asr
