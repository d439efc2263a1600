// .npy: magic "\x93NUMPY", version (2 bytes), header length (2 bytes LE in 1.0, 4 bytes in
// 2.0+), a Python dict literal padded with spaces to a multiple of 64 bytes ending in '\n',
// then the raw data.
#include "asr/data/npy.h"

#include <bit>
#include <cstring>
#include <fstream>
#include <iterator>
#include <regex>

#include "nn/safetensors.h"

namespace asr {
namespace {

static_assert(std::endian::native == std::endian::little, ".npy data is written little-endian");

const char kMagic[] = "\x93NUMPY";

// "()", "(3,)", "(3, 4)"
std::string shape_literal(const ag::Shape& shape) {
  std::string s = "(";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + (shape.size() == 1 ? ",)" : ")");
}

}  // namespace

void write_npy(const std::string& path, const ag::Tensor& t) {
  AG_CHECK(t.defined() && t.dtype() == ag::DType::f32 && t.device() == ag::Device::cpu, path,
           ": write_npy takes a float32 CPU tensor");
  std::string dict =
      "{'descr': '<f4', 'fortran_order': False, 'shape': " + shape_literal(t.shape()) + ", }";
  size_t unpadded = 6 + 2 + 2 + dict.size() + 1;
  dict.append((64 - unpadded % 64) % 64, ' ');
  dict.push_back('\n');
  AG_CHECK(dict.size() <= 65535, path, ": .npy header too long for shape ",
           ag::shape_str(t.shape()));
  std::string bytes(kMagic, 6);
  bytes += '\x01';
  bytes += '\x00';
  bytes += static_cast<char>(dict.size() & 0xFF);
  bytes += static_cast<char>(dict.size() >> 8);
  bytes += dict;
  bytes.append(reinterpret_cast<const char*>(t.data()), t.numel() * sizeof(float));
  nn::write_file_atomic(path, bytes);
}

ag::Tensor read_npy(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  AG_CHECK(in, path, ": cannot open");
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  AG_CHECK(bytes.size() >= 10 && bytes.compare(0, 6, kMagic, 6) == 0, path, ": not a .npy file");
  int major = static_cast<uint8_t>(bytes[6]);
  AG_CHECK(major >= 1 && major <= 3, path, ": unsupported .npy version ", major);
  size_t len_bytes = major == 1 ? 2 : 4, start = 8 + len_bytes;
  AG_CHECK(bytes.size() >= start, path, ": truncated .npy header");
  size_t header_len = 0;
  for (size_t i = 0; i < len_bytes; ++i)
    header_len |= static_cast<size_t>(static_cast<uint8_t>(bytes[8 + i])) << (8 * i);
  AG_CHECK(bytes.size() >= start + header_len, path, ": truncated .npy header");
  std::string header = bytes.substr(start, header_len);
  AG_CHECK(std::regex_search(header, std::regex("'descr':\\s*'<f4'")), path,
           ": .npy dtype is not little-endian float32 ('<f4'): ", header);
  AG_CHECK(std::regex_search(header, std::regex("'fortran_order':\\s*False")), path,
           ": .npy data is not in C order: ", header);
  std::smatch m;
  AG_CHECK(std::regex_search(header, m, std::regex("'shape':\\s*\\(([0-9,\\s]*)\\)")), path,
           ": .npy header has no shape: ", header);
  ag::Shape shape;
  std::string dims = m[1];
  const std::regex number("[0-9]+");
  for (std::sregex_iterator it(dims.begin(), dims.end(), number), end; it != end; ++it)
    shape.push_back(std::stoll(it->str()));
  size_t data = start + header_len, need = static_cast<size_t>(ag::numel_of(shape)) * sizeof(float);
  AG_CHECK(bytes.size() - data == need, path, ": .npy data holds ", bytes.size() - data,
           " bytes, shape ", ag::shape_str(shape), " needs ", need);
  ag::Tensor t = ag::empty(shape);
  std::memcpy(t.data(), bytes.data() + data, need);
  return t;
}

}  // namespace asr
