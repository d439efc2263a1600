// Symmetric int8 quantization of streaming-cache frames, as KIVI (Liu et al. 2024) splits it:
// keys per channel (their outlier channels keep their own scale), values and latents per token.
// A group of numbers shares the scale s = max |x| / 127 (1 for an all-zero group); x is stored
// as code = round(x / s) in [-127, 127] and read back as s * code, so that
// |x - s * code| <= s / 2 for every element.
#pragma once
#include <cstdint>

namespace nn {

// x: `matrices` row-major [rows, K] blocks of floats. Per token: each row its scale
// (scales: matrices * rows). Per channel: each column of each block its scale (scales:
// matrices * K).
void quantize_per_token(const float* x, int64_t matrices, int64_t rows, int64_t K,
                        int8_t* codes, float* scales);
void quantize_per_channel(const float* x, int64_t matrices, int64_t rows, int64_t K,
                          int8_t* codes, float* scales);

}  // namespace nn
