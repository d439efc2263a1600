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

}  // namespace ag::cpu
