#include "int8_quantization.h"

#include <algorithm>
#include <cmath>

#include "autograd/error.h"

namespace nn {
namespace {

float scale_of(float max_abs) { return max_abs > 0 ? max_abs / 127.0f : 1.0f; }

// |x|, refusing NaN and infinities (no int8 code stands for them).
float magnitude(float x) {
  AG_CHECK(std::isfinite(x), "int8 cache: cannot quantize the non-finite value ", x);
  return std::fabs(x);
}

int8_t code_of(float x, float scale) {
  return static_cast<int8_t>(std::clamp(std::nearbyint(x / scale), -127.0f, 127.0f));
}

}  // namespace

void quantize_per_token(const float* x, int64_t matrices, int64_t rows, int64_t K,
                        int8_t* codes, float* scales) {
  for (int64_t r = 0; r < matrices * rows; ++r) {
    const float* row = x + r * K;
    float m = 0;
    for (int64_t k = 0; k < K; ++k) m = std::max(m, magnitude(row[k]));
    scales[r] = scale_of(m);
    for (int64_t k = 0; k < K; ++k) codes[r * K + k] = code_of(row[k], scales[r]);
  }
}

void quantize_per_channel(const float* x, int64_t matrices, int64_t rows, int64_t K,
                          int8_t* codes, float* scales) {
  for (int64_t m = 0; m < matrices; ++m) {
    const float* block = x + m * rows * K;
    float* s = scales + m * K;
    std::fill(s, s + K, 0.0f);
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t k = 0; k < K; ++k) s[k] = std::max(s[k], magnitude(block[r * K + k]));
    for (int64_t k = 0; k < K; ++k) s[k] = scale_of(s[k]);
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t k = 0; k < K; ++k)
        codes[(m * rows + r) * K + k] = code_of(block[r * K + k], s[k]);
  }
}

}  // namespace nn
