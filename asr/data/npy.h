// NumPy .npy files (format version 1.0): float32, C order, little-endian. numpy.load reads
// what write_npy writes.
#pragma once
#include <string>

#include "autograd/tensor.h"

namespace asr {

// Writes a float32 CPU tensor atomically (temp file, then rename). Throws ag::Error naming
// the path.
void write_npy(const std::string& path, const ag::Tensor& t);

// Reads a little-endian float32 C-order .npy file (versions 1.0 to 3.0). Throws ag::Error
// naming the path and what is wrong.
ag::Tensor read_npy(const std::string& path);

}  // namespace asr
