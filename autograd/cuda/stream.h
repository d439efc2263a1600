// The stream every CUDA kernel and copy of the library runs on (one per device).
#pragma once
#include <cuda_runtime_api.h>

namespace ag::cuda {

int current_device();
// The current device's stream, created on first use.
cudaStream_t stream();

}  // namespace ag::cuda
