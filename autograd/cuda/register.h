// What the CUDA backend installs (called once by install_cuda_backend, backends.cpp).
#pragma once

namespace ag::cuda {

// The cudaMalloc-backed allocator under the CUDA cache, then every register_* below.
void register_backend();

void register_copy_kernels();         // memory.cpp (fill is in elementwise.cu)
void register_gemm_kernels();         // matmul.cpp
void register_elementwise_kernels();  // elementwise.cu
void register_reduce_kernels();       // reduce.cu
void register_softmax_kernels();      // softmax.cu
void register_norm_kernels();         // norm.cu
void register_shape_kernels();        // shape.cu
void register_index_kernels();        // index.cu
void register_optim_kernels();        // optim.cu
void register_dropout_kernels();      // dropout.cu
void register_rel_shift_kernels();    // rel_shift.cu
void register_conv_kernels();         // conv.cu
void register_ctc_kernels();          // ctc.cu

}  // namespace ag::cuda
