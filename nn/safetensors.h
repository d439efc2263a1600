// safetensors files: 8-byte little-endian header length, a JSON header naming each tensor's
// dtype, shape and byte range, then the raw little-endian data. `__metadata__` holds string
// pairs (here: the YAML config and the training step). Readable by safetensors.torch.load_file.
#pragma once
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "autograd/tensor.h"

namespace nn {

using NamedTensors = std::vector<std::pair<std::string, ag::Tensor>>;
using Metadata = std::map<std::string, std::string>;

// Writes atomically: to `path`.tmp, then renamed over `path`. Throws ag::Error naming the path.
void save_safetensors(const std::string& path, const NamedTensors& tensors,
                      const Metadata& metadata = {});

struct SafetensorsFile {
  NamedTensors tensors;  // in file order (by data offset)
  Metadata metadata;
};

// Reads a whole file onto the CPU. Throws ag::Error naming the path and what is wrong.
SafetensorsFile load_safetensors(const std::string& path);

// Writes `bytes` to `path` atomically (temp file in the same folder, fsync, rename).
void write_file_atomic(const std::string& path, const std::string& bytes);

}  // namespace nn
