#include "masks.h"

#include <algorithm>

#include "autograd/ops.h"

namespace nn {
namespace {
void check_lengths(const std::vector<int64_t>& lengths, int64_t T, const char* what) {
  for (size_t b = 0; b < lengths.size(); ++b)
    AG_CHECK(lengths[b] >= 1 && lengths[b] <= T, what, ": length ", lengths[b], " of item ", b,
             " is outside [1, ", T, "]");
}

bool any_padded(const std::vector<int64_t>& lengths, int64_t T) {
  return std::any_of(lengths.begin(), lengths.end(), [T](int64_t l) { return l < T; });
}
}  // namespace

Tensor chunk_mask(int64_t T, int64_t chunk_size, int64_t left_chunks) {
  AG_CHECK(T >= 0, "chunk_mask: negative length ", T);
  AG_CHECK(chunk_size > 0, "chunk_mask: chunk_size ", chunk_size, " must be positive");
  Tensor mask = ag::zeros({T, T}, ag::DType::u8);  // [T, T]
  uint8_t* m = mask.data_as<uint8_t>();
  for (int64_t i = 0; i < T; ++i) {
    const int64_t chunk = i / chunk_size;
    const int64_t start = left_chunks < 0 ? 0 : std::max<int64_t>(chunk - left_chunks, 0) * chunk_size;
    const int64_t end = std::min((chunk + 1) * chunk_size, T);
    std::fill(m + i * T + start, m + i * T + end, uint8_t{1});
  }
  return mask;
}

Tensor padding_mask(const std::vector<int64_t>& lengths, int64_t T, ag::Device device) {
  check_lengths(lengths, T, "padding_mask");
  if (!any_padded(lengths, T)) return Tensor();
  const int64_t B = static_cast<int64_t>(lengths.size());
  Tensor real = ag::lengths_to_mask(lengths, T);                       // [B, T]
  Tensor pad = ag::reshape(ag::logical_not(real), {B, T, 1});          // [B, T, 1]
  return device == ag::Device::cpu ? pad : ag::to_device(pad, device);
}

Tensor causal_mask(const std::vector<int64_t>& lengths, int64_t L, ag::Device device) {
  check_lengths(lengths, L, "causal_mask");
  const int64_t B = static_cast<int64_t>(lengths.size());
  Tensor mask = ag::zeros({B, L, L}, ag::DType::u8);  // [B, L, L]
  uint8_t* m = mask.data_as<uint8_t>();
  for (int64_t b = 0; b < B; ++b)
    for (int64_t i = 0; i < L; ++i)
      std::fill(m + (b * L + i) * L, m + (b * L + i) * L + std::min(i + 1, lengths[b]),
                uint8_t{1});
  return device == ag::Device::cpu ? mask : ag::to_device(mask, device);
}

Tensor attention_mask(const std::vector<int64_t>& lengths, int64_t T, int64_t chunk_size,
                      int64_t left_chunks, ag::Device device) {
  check_lengths(lengths, T, "attention_mask");
  AG_CHECK(chunk_size >= 0, "attention_mask: chunk_size ", chunk_size,
           " must be 0 (full context) or positive");
  const int64_t B = static_cast<int64_t>(lengths.size());
  if (chunk_size == 0) {
    if (!any_padded(lengths, T)) return Tensor();
    return ag::reshape(ag::lengths_to_mask(lengths, T, device), {B, 1, T});  // [B, 1, T]
  }
  Tensor chunks = chunk_mask(T, chunk_size, left_chunks);  // [T, T]
  Tensor mask = ag::empty({B, T, T}, ag::DType::u8);       // [B, T, T]
  const uint8_t* c = chunks.data_as<uint8_t>();
  uint8_t* m = mask.data_as<uint8_t>();
  for (int64_t b = 0; b < B; ++b)
    for (int64_t i = 0; i < T; ++i) {
      uint8_t* row = m + (b * T + i) * T;
      std::copy(c + i * T, c + (i + 1) * T, row);
      if (i < lengths[b]) std::fill(row + lengths[b], row + T, uint8_t{0});
    }
  return device == ag::Device::cpu ? mask : ag::to_device(mask, device);
}

}  // namespace nn
