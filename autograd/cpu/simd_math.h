// Branch-free float math that GCC vectorizes inside plain loops.
#pragma once
#include <bit>
#include <cstdint>

namespace ag::cpu {

// e^x to about 2 ulp; 0 below -87.3 (so exp(-inf) == 0), clamped above 88.3; NaN for NaN.
inline float fast_exp(float x) {
  const float lo = -87.3f, hi = 88.3f;
  // NaN is clamped too (every comparison with it is false): converting a NaN n to int32_t
  // below would be undefined.
  float xc = x > lo ? (x < hi ? x : hi) : lo;
  // x = n ln2 + r, |r| <= ln2/2; n rounded with the 1.5 * 2^23 trick.
  const float shifter = 12582912.0f;
  float n = (xc * 1.44269504f + shifter) - shifter;
  float r = xc - n * 0.693145752f;  // ln2 split in two for exactness
  r = r - n * 1.42860677e-6f;
  float p = 1.0f / 720;
  p = p * r + 1.0f / 120;
  p = p * r + 1.0f / 24;
  p = p * r + 1.0f / 6;
  p = p * r + 0.5f;
  p = p * r + 1.0f;
  p = p * r + 1.0f;
  int32_t bits = (static_cast<int32_t>(n) + 127) << 23;
  float result = p * std::bit_cast<float>(bits);
  return x < lo ? 0.0f : (x == x ? result : x);
}

inline float fast_sigmoid(float x) { return 1.0f / (1.0f + fast_exp(-x)); }

// erf(x) to 1.5e-7 absolute (Abramowitz and Stegun 7.1.26, odd-extended); NaN for NaN.
inline float fast_erf(float x) {
  const float a = x < 0 ? -x : x;
  const float t = 1.0f / (1.0f + 0.3275911f * a);
  float p = 1.061405429f;
  p = p * t - 1.453152027f;
  p = p * t + 1.421413741f;
  p = p * t - 0.284496736f;
  p = p * t + 0.254829592f;
  const float y = 1.0f - p * t * fast_exp(-a * a);
  return x < 0 ? -y : (x == x ? y : x);
}

}  // namespace ag::cpu
