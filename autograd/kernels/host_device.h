// AG_HOST_DEVICE marks the small inline functions of kernels/ that both backends call: the
// CPU code and the CUDA kernels then compute the same thing from one definition.
#pragma once

#ifdef __CUDACC__
#define AG_HOST_DEVICE __host__ __device__
#else
#define AG_HOST_DEVICE
#endif
