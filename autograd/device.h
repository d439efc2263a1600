// Device and element type tags carried by every tensor.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

namespace ag {

enum class Device : int { cpu = 0, cuda = 1 };
inline constexpr int kNumDevices = 2;

// float32 for data; int64 for indices and labels; uint8 for boolean masks.
enum class DType : int { f32 = 0, i64 = 1, u8 = 2 };

inline size_t dtype_size(DType t) {
  switch (t) {
    case DType::f32: return 4;
    case DType::i64: return 8;
    case DType::u8: return 1;
  }
  return 0;
}

inline const char* dtype_name(DType t) {
  switch (t) {
    case DType::f32: return "float32";
    case DType::i64: return "int64";
    case DType::u8: return "bool";
  }
  return "?";
}

inline const char* device_name(Device d) { return d == Device::cpu ? "cpu" : "cuda"; }

}  // namespace ag
