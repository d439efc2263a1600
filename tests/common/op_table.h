// The op table, in the spirit of ggml's test-backend-ops: the differentiable ops of
// autograd/ops.h (the shape ops that only reshape or move data through concat/narrow/permute
// included), each declared once by its call and its inputs (shapes and kinds of values).
// From the table:
//   tests/autograd/test_op_table.cpp  the finite-difference gradient check of every row
//                                     (tolerance relative to the gradient, gradcheck.h)
//   tests/gpu/test_op_table.cpp       the CUDA backend against the CPU on every row
//                                     (skipped where no GPU answers)
//   bench/bench_ops.cpp               every row's forward and backward timed, at its bench
//                                     shapes (a Conformer's: d_model 256, 4 heads, 8 x 250)
// Adding an op: its kernel, its op, one row in op_table.cpp.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "autograd/ops.h"

namespace op_table {

using Inputs = std::vector<ag::Tensor>;
using Call = std::function<ag::Tensor(const Inputs&)>;

// How an input's values are drawn (seeded; see make_inputs).
enum class Values {
  normal,          // N(0, 1)
  positive,        // uniform [0.5, 2]: log, sqrt, divisors, pow's base
  distinct,        // 0.05 apart, none within 0.025 of a multiple of 0.05, shuffled: kinks
                   // (relu, abs, clamp) and max's ties out of the finite differences' way
  index,           // int64 ids in [0, bound)
  mask,            // uint8, 1 with probability 1/2, and always at position 0 of each
                   // last-dim row (fully masked rows: tests/autograd/test_masked_softmax.cpp)
};

struct Input {
  ag::Shape shape;
  Values values = Values::normal;
  int64_t bound = 0;  // index: the number of ids
};

struct Row {
  std::string name;
  Call call;
  std::vector<Input> check;  // small: the gradient check and the CPU/CUDA comparison
  std::vector<Input> bench;  // realistic: the micro-benchmark (empty: not timed)
  float cuda_rtol = 1e-4f;   // elementwise relative tolerance of the CUDA comparison
};

// Every row, grouped by the header under autograd/ops/ that declares the op.
const std::vector<Row>& rows();

// Inputs for `inputs`, drawn from a generator seeded with `seed`, on the CPU.
Inputs make_inputs(const std::vector<Input>& inputs, uint64_t seed);

}  // namespace op_table
