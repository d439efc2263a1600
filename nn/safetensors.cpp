#include "safetensors.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>

#include "autograd/copy.h"

namespace nn {
using ag::DType;
using ag::Tensor;
using json = nlohmann::json;

namespace {

const char* dtype_tag(DType t) {
  switch (t) {
    case DType::f32: return "F32";
    case DType::i64: return "I64";
    case DType::u8: return "U8";
  }
  return "?";
}

// The bytes a tensor of `shape` holds, refused (naming the file and the tensor) where a
// dimension is negative or the size passes what an int64 counts: checked before each
// multiplication, so that no shape from a file overflows.
size_t tensor_bytes(const ag::Shape& shape, DType dtype, const std::string& path,
                    const std::string& name) {
  for (int64_t d : shape)
    AG_CHECK(d >= 0, path, ": tensor '", name, "' has a negative dimension in shape ",
             ag::shape_str(shape));
  if (std::count(shape.begin(), shape.end(), 0) > 0) return 0;
  constexpr size_t limit = std::numeric_limits<int64_t>::max();
  size_t bytes = ag::dtype_size(dtype);
  for (int64_t d : shape) {
    AG_CHECK(bytes <= limit / static_cast<size_t>(d), path, ": tensor '", name, "' of shape ",
             ag::shape_str(shape), " is too large");
    bytes *= static_cast<size_t>(d);
  }
  return bytes;
}

DType dtype_from_tag(const std::string& tag, const std::string& path, const std::string& name) {
  if (tag == "F32") return DType::f32;
  if (tag == "I64") return DType::i64;
  if (tag == "U8" || tag == "BOOL") return DType::u8;
  ag::detail::fail(path, ": tensor '", name, "' has dtype ", tag,
                   ", which latentasr does not read (F32, I64, U8)");
}

[[noreturn]] void io_fail(const std::string& what, const std::string& path) {
  ag::detail::fail(what, " ", path, ": ", std::strerror(errno));
}

}  // namespace

void write_file_atomic(const std::string& path, const std::string& bytes) {
  std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) io_fail("cannot create", tmp);
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      errno = err;
      io_fail("cannot write", tmp);
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    ::unlink(tmp.c_str());
    io_fail("cannot flush", tmp);
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    ::unlink(tmp.c_str());
    io_fail("cannot rename onto", path);
  }
}

void save_safetensors(const std::string& path, const NamedTensors& tensors,
                      const Metadata& metadata) {
  json header = json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  size_t offset = 0;
  std::vector<Tensor> cpu;
  for (const auto& [name, t] : tensors) {
    AG_CHECK(!header.contains(name), "save_safetensors: tensor name '", name, "' repeated");
    Tensor c = t.device() == ag::Device::cpu ? t : ag::to_device(t, ag::Device::cpu);
    size_t bytes = c.numel() * ag::dtype_size(c.dtype());
    header[name] = {{"dtype", dtype_tag(c.dtype())},
                    {"shape", c.shape()},
                    {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
    cpu.push_back(c);
  }
  std::string head = header.dump();
  head.append((8 - head.size() % 8) % 8, ' ');  // data starts 8-byte aligned
  std::string file(8, '\0');
  uint64_t n = head.size();
  for (int i = 0; i < 8; ++i) file[i] = static_cast<char>((n >> (8 * i)) & 0xff);
  file += head;
  file.reserve(file.size() + offset);
  for (const Tensor& c : cpu)
    file.append(static_cast<const char*>(c.raw()), c.numel() * ag::dtype_size(c.dtype()));
  write_file_atomic(path, file);
}

SafetensorsFile load_safetensors(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) io_fail("cannot open", path);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  AG_CHECK(bytes.size() >= 8, path, ": not a safetensors file (", bytes.size(), " bytes)");
  uint64_t n = 0;
  for (int i = 0; i < 8; ++i) n |= static_cast<uint64_t>(static_cast<uint8_t>(bytes[i])) << (8 * i);
  AG_CHECK(n <= bytes.size() - 8, path, ": header length ", n, " exceeds the file size ",
           bytes.size());
  json header;
  try {
    header = json::parse(bytes.begin() + 8, bytes.begin() + 8 + static_cast<int64_t>(n));
  } catch (const json::exception& e) {
    ag::detail::fail(path, ": header is not valid JSON (", e.what(), ")");
  }
  AG_CHECK(header.is_object(), path, ": header is not a JSON object");
  const size_t data_start = 8 + n, data_size = bytes.size() - data_start;
  SafetensorsFile out;
  std::vector<std::pair<size_t, std::pair<std::string, Tensor>>> ordered;
  for (const auto& [name, entry] : header.items()) {
    if (name == "__metadata__") {
      for (const auto& [k, v] : entry.items()) {
        AG_CHECK(v.is_string(), path, ": metadata '", k, "' is not a string");
        out.metadata[k] = v.get<std::string>();
      }
      continue;
    }
    try {
      DType dtype = dtype_from_tag(entry.at("dtype").get<std::string>(), path, name);
      ag::Shape shape = entry.at("shape").get<ag::Shape>();
      auto offsets = entry.at("data_offsets").get<std::vector<size_t>>();
      AG_CHECK(offsets.size() == 2 && offsets[0] <= offsets[1] && offsets[1] <= data_size, path,
               ": tensor '", name, "' has data offsets outside the file");
      size_t expect = tensor_bytes(shape, dtype, path, name);
      AG_CHECK(offsets[1] - offsets[0] == expect, path, ": tensor '", name, "' of shape ",
               ag::shape_str(shape), " has ", offsets[1] - offsets[0], " bytes, expected ", expect);
      Tensor t = ag::empty(shape, dtype);
      std::memcpy(t.raw(), bytes.data() + data_start + offsets[0], expect);
      ordered.push_back({offsets[0], {name, t}});
    } catch (const json::exception& e) {
      ag::detail::fail(path, ": tensor '", name, "' has a malformed entry (", e.what(), ")");
    }
  }
  std::stable_sort(ordered.begin(), ordered.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  for (auto& [offset, named] : ordered) out.tensors.push_back(std::move(named));
  return out;
}

}  // namespace nn
