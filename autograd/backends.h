// Backends other than the CPU install themselves here, once, on first use.
#pragma once

namespace ag {

// Fills the CUDA slots of every kernel table the CUDA backend implements and gives the CUDA
// caching allocator its cudaMalloc. allocate() calls it before the first CUDA block, so no
// CUDA tensor can reach a kernel table before it ran. Throws when the library was built
// without the CUDA backend.
void install_cuda_backend();

}  // namespace ag
