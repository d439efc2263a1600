// The op table's micro-benchmark (tests/common/op_table.h): every row with bench shapes, its
// forward (no graph) and forward + backward, median milliseconds, on the CPU and, where a
// GPU answers, on CUDA. One JSON object per row and device:
//   {"op": "softmax", "device": "cpu", "threads": 2, "forward_ms": ..., "backward_ms": ...}
// backward_ms is (forward + backward) - forward. Usage: bench_ops [substring of op names]
#include <omp.h>

#include <cstdio>
#include <string>

#include "autograd/cuda.h"
#include "common/op_table.h"
#include "timer.h"

namespace {

void sync(ag::Device d) {
  if (d == ag::Device::cuda) ag::cuda::synchronize();
}

void time_row(const op_table::Row& row, ag::Device device, uint64_t seed) {
  op_table::Inputs in;
  for (ag::Tensor& t : op_table::make_inputs(row.bench, seed)) {
    ag::Tensor x = t.to(device);
    if (x.dtype() == ag::DType::f32) x.set_requires_grad(true);
    in.push_back(x);
  }
  const double forward = bench::median_ms([&] {
    ag::NoGradGuard no_grad;
    row.call(in);
    sync(device);
  });
  const ag::Tensor grad = ag::ones(row.call(in).shape(), device);
  const double both = bench::median_ms([&] {
    row.call(in).backward(grad);
    for (ag::Tensor& x : in)
      if (x.requires_grad()) x.set_grad(ag::Tensor());
    sync(device);
  });
  std::printf("{\"op\": \"%s\", \"device\": \"%s\", \"threads\": %d, \"forward_ms\": %.4f, "
              "\"backward_ms\": %.4f}\n",
              row.name.c_str(), device == ag::Device::cpu ? "cpu" : "cuda",
              omp_get_max_threads(), forward, both - forward);
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  const std::string only = argc > 1 ? argv[1] : "";
  uint64_t seed = 300;
  for (const op_table::Row& row : op_table::rows()) {
    ++seed;
    if (row.bench.empty() || row.name.find(only) == std::string::npos) continue;
    time_row(row, ag::Device::cpu, seed);
    if (ag::cuda::available()) time_row(row, ag::Device::cuda, seed);
  }
  return 0;
}
