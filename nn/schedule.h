// Learning-rate schedules: lr(step) for optimizer steps counted from 1.
#pragma once
#include <cmath>
#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>

namespace nn {

class Schedule {
 public:
  virtual ~Schedule() = default;
  virtual float lr(int64_t step) const = 0;
};

class ConstantLR : public Schedule {
 public:
  explicit ConstantLR(float lr) : base_(lr) {}
  float lr(int64_t) const override { return base_; }

 private:
  float base_;
};

// ESPnet's WarmupLR: base * warmup^0.5 * min(step^-0.5, step * warmup^-1.5); peaks at base
// when step == warmup, then decays as step^-0.5.
class WarmupLR : public Schedule {
 public:
  WarmupLR(float base, int64_t warmup) : base_(base), warmup_(static_cast<double>(warmup)) {}
  float lr(int64_t step) const override {
    double s = static_cast<double>(std::max<int64_t>(step, 1));
    return static_cast<float>(base_ * std::sqrt(warmup_) *
                              std::min(1.0 / std::sqrt(s), s * std::pow(warmup_, -1.5)));
  }

 private:
  double base_, warmup_;
};

// Noam (Vaswani et al.): scale * d_model^-0.5 * min(step^-0.5, step * warmup^-1.5).
class NoamLR : public Schedule {
 public:
  NoamLR(float scale, int64_t d_model, int64_t warmup)
      : scale_(scale), d_model_(static_cast<double>(d_model)), warmup_(static_cast<double>(warmup)) {}
  float lr(int64_t step) const override {
    double s = static_cast<double>(std::max<int64_t>(step, 1));
    return static_cast<float>(scale_ / std::sqrt(d_model_) *
                              std::min(1.0 / std::sqrt(s), s * std::pow(warmup_, -1.5)));
  }

 private:
  double scale_, d_model_, warmup_;
};

// Linear warmup to base over `warmup` steps, then cosine decay to min_lr at total_steps.
class CosineLR : public Schedule {
 public:
  CosineLR(float base, int64_t warmup, int64_t total_steps, float min_lr = 0)
      : base_(base), min_(min_lr), warmup_(warmup), total_(total_steps) {}
  float lr(int64_t step) const override {
    if (warmup_ > 0 && step <= warmup_) return base_ * static_cast<float>(step) / warmup_;
    double t = std::clamp(static_cast<double>(step - warmup_) / std::max<int64_t>(total_ - warmup_, 1), 0.0, 1.0);
    return static_cast<float>(min_ + 0.5 * (base_ - min_) * (1.0 + std::cos(M_PI * t)));
  }

 private:
  float base_, min_;
  int64_t warmup_, total_;
};

}  // namespace nn
