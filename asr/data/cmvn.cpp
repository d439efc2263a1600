// Global CMVN: per-bin sums and sums of squares in double, saved as JSON.
#include "asr/data/cmvn.h"

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>

#include "nn/safetensors.h"

namespace asr {
namespace {

constexpr double kStdFloor = 1e-5;

void check_feats(const ag::Tensor& feats, int64_t dim, const char* op) {
  AG_CHECK(feats.defined() && feats.dim() == 2 && feats.dtype() == ag::DType::f32 &&
               feats.device() == ag::Device::cpu,
           "Cmvn::", op, ": expects float32 CPU features [frames, bins]");
  AG_CHECK(dim == 0 || feats.size(1) == dim, "Cmvn::", op, ": features ",
           ag::shape_str(feats.shape()), " do not have the ", dim, " bins of the statistics");
}

}  // namespace

void Cmvn::add(const ag::Tensor& feats) {
  AG_CHECK(!given(), "Cmvn::add: a normalization given as mean and std holds no sums to add to");
  check_feats(feats, dim(), "add");
  const int64_t t_len = feats.size(0), f_len = feats.size(1);
  if (sum_.empty()) {
    sum_.assign(f_len, 0.0);
    sum_sq_.assign(f_len, 0.0);
  }
  const float* x = feats.data();
  for (int64_t t = 0; t < t_len; ++t)
    for (int64_t f = 0; f < f_len; ++f) {
      double v = x[t * f_len + f];
      sum_[f] += v;
      sum_sq_[f] += v * v;
    }
  frames_ += t_len;
}

void Cmvn::merge(const Cmvn& other) {
  AG_CHECK(!given() && !other.given(),
           "Cmvn::merge: a normalization given as mean and std holds no sums to merge");
  if (other.frames_ == 0) return;
  if (sum_.empty()) {
    *this = other;
    return;
  }
  AG_CHECK(other.dim() == dim(), "Cmvn::merge: ", other.dim(), " bins into ", dim());
  for (int64_t f = 0; f < dim(); ++f) {
    sum_[f] += other.sum_[f];
    sum_sq_[f] += other.sum_sq_[f];
  }
  frames_ += other.frames_;
}

std::vector<float> Cmvn::mean() const {
  if (given()) return given_mean_;
  std::vector<float> m(sum_.size());
  for (size_t f = 0; f < m.size(); ++f) m[f] = static_cast<float>(sum_[f] / frames_);
  return m;
}

std::vector<float> Cmvn::stddev() const {
  if (given()) return given_stddev_;
  std::vector<float> s(sum_.size());
  for (size_t f = 0; f < s.size(); ++f) {
    double mean = sum_[f] / frames_;
    double var = std::max(0.0, sum_sq_[f] / frames_ - mean * mean);
    s[f] = static_cast<float>(std::max(std::sqrt(var), kStdFloor));
  }
  return s;
}

ag::Tensor Cmvn::apply(const ag::Tensor& feats) const {
  AG_CHECK(frames_ > 0 || given(), "Cmvn::apply: no statistics (no frames added or loaded)");
  check_feats(feats, dim(), "apply");
  std::vector<float> m = mean(), s = stddev(), inv(s.size());
  for (size_t f = 0; f < s.size(); ++f) inv[f] = 1.0f / s[f];
  ag::Tensor out = ag::empty(feats.shape());  // [T, F]
  const int64_t t_len = feats.size(0), f_len = feats.size(1);
  const float* x = feats.data();
  float* y = out.data();
  for (int64_t t = 0; t < t_len; ++t)
#pragma omp simd
    for (int64_t f = 0; f < f_len; ++f) y[t * f_len + f] = (x[t * f_len + f] - m[f]) * inv[f];
  return out;
}

void Cmvn::save(const std::string& path) const {
  AG_CHECK(frames_ > 0, path, ": Cmvn::save: no statistics to save (",
           given() ? "a normalization given as mean and std has no sums" : "no frames added", ")");
  nlohmann::json j = {{"frames", frames_}, {"sum", sum_}, {"sum_sq", sum_sq_}};
  nn::write_file_atomic(path, j.dump() + "\n");
}

Cmvn Cmvn::load(const std::string& path) {
  std::ifstream in(path);
  AG_CHECK(in, path, ": cannot open CMVN statistics");
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    ag::detail::fail(path, ": CMVN statistics are not valid JSON (", e.what(), ")");
  }
  Cmvn c;
  try {
    AG_CHECK(j.is_object(), path, ": CMVN statistics must be a JSON object");
    for (const char* key : {"frames", "sum", "sum_sq"})
      AG_CHECK(j.contains(key), path, ": CMVN statistics lack the key \"", key, "\"");
    c.frames_ = j.at("frames").get<int64_t>();
    c.sum_ = j.at("sum").get<std::vector<double>>();
    c.sum_sq_ = j.at("sum_sq").get<std::vector<double>>();
  } catch (const nlohmann::json::exception& e) {
    ag::detail::fail(path, ": CMVN statistics have a bad value (", e.what(), ")");
  }
  AG_CHECK(c.frames_ > 0, path, ": CMVN \"frames\" is ", c.frames_, " (must be positive)");
  AG_CHECK(!c.sum_.empty() && c.sum_.size() == c.sum_sq_.size(), path, ": CMVN \"sum\" has ",
           c.sum_.size(), " bins and \"sum_sq\" ", c.sum_sq_.size(), " (must match, non-empty)");
  for (size_t f = 0; f < c.sum_.size(); ++f)
    AG_CHECK(std::isfinite(c.sum_[f]) && std::isfinite(c.sum_sq_[f]) && c.sum_sq_[f] >= 0, path,
             ": CMVN bin ", f, " has a bad sum (", c.sum_[f], ") or sum_sq (", c.sum_sq_[f], ")");
  return c;
}

Cmvn Cmvn::from_mean_stddev(std::vector<float> mean, std::vector<float> stddev,
                            const std::string& source) {
  AG_CHECK(!mean.empty() && mean.size() == stddev.size(), source, ": CMVN mean has ", mean.size(),
           " bins and std ", stddev.size(), " (must match, non-empty)");
  for (size_t f = 0; f < mean.size(); ++f)
    AG_CHECK(std::isfinite(mean[f]) && std::isfinite(stddev[f]) &&
                 stddev[f] >= static_cast<float>(kStdFloor),
             source, ": CMVN bin ", f, " has a bad mean (", mean[f], ") or std (", stddev[f],
             "; at least ", kStdFloor, ")");
  Cmvn c;
  c.given_mean_ = std::move(mean);
  c.given_stddev_ = std::move(stddev);
  return c;
}

}  // namespace asr
