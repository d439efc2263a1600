// Every op with a CUDA kernel, run on fresh random inputs on both devices: outputs and
// gradients must agree with the CPU within 1e-4 relative (float32) or 1e-3 (TF32 matmul).
#include <boost/test/unit_test.hpp>
#include <cmath>

#include "compare.h"

using namespace ag;
using gpu_testing::compare_with_cpu;
using gpu_testing::Inputs;

namespace {
Tensor positive(const Shape& s) { return uniform(s, 0.5f, 2.0f); }
}  // namespace

BOOST_AUTO_TEST_SUITE(ops, *boost::unit_test::precondition(gpu_testing::cuda_present))

BOOST_AUTO_TEST_CASE(matmul_every_transpose_and_batch_layout) {
  manual_seed(1);
  const int64_t M = 37, K = 53, N = 29;
  for (bool ta : {false, true})
    for (bool tb : {false, true}) {
      Shape a = ta ? Shape{K, M} : Shape{M, K}, b = tb ? Shape{N, K} : Shape{K, N};
      compare_with_cpu("matmul ta=" + std::to_string(ta) + " tb=" + std::to_string(tb),
                       [=](const Inputs& in) { return matmul(in[0], in[1], ta, tb); },
                       {normal(a), normal(b)});
    }
  compare_with_cpu("batched matmul", [](const Inputs& in) { return matmul(in[0], in[1]); },
                   {normal({2, 3, 4, 5}), normal({2, 3, 5, 6})});
  compare_with_cpu("broadcast batch matmul",
                   [](const Inputs& in) { return matmul(in[0], in[1], false, true); },
                   {normal({2, 1, 4, 5}), normal({3, 6, 5})});
  compare_with_cpu("folded rows matmul", [](const Inputs& in) { return matmul(in[0], in[1]); },
                   {normal({2, 7, 8}), normal({8, 3})});
  compare_with_cpu("linear", [](const Inputs& in) { return linear(in[0], in[1], in[2]); },
                   {normal({2, 7, 8}), normal({5, 8}), normal({5})});
}

BOOST_AUTO_TEST_CASE(matmul_tf32) {
  manual_seed(2);
  Tensor a = normal({3, 96, 128}), b = normal({3, 128, 80});
  Tensor want = matmul(a, b);
  cuda::set_allow_tf32(true);
  Tensor got = matmul(a.to(Device::cuda), b.to(Device::cuda));
  cuda::set_allow_tf32(false);
  const double err = gpu_testing::norm_relative_error(got, want);
  BOOST_TEST_MESSAGE("TF32 relative error " << err);
  BOOST_TEST(err < 1e-3);
  // TF32 off again: float32 exactness is back.
  gpu_testing::expect_close(matmul(a.to(Device::cuda), b.to(Device::cuda)), want, 1e-4f,
                            "matmul after TF32");
}

BOOST_AUTO_TEST_CASE(binary_ops_broadcast) {
  manual_seed(3);
  const Shape sa = {3, 1, 5}, sb = {4, 1};
  compare_with_cpu("add", [](const Inputs& in) { return in[0] + in[1]; }, {normal(sa), normal(sb)});
  compare_with_cpu("sub", [](const Inputs& in) { return in[0] - in[1]; }, {normal(sa), normal(sb)});
  compare_with_cpu("mul", [](const Inputs& in) { return in[0] * in[1]; }, {normal(sa), normal(sb)});
  compare_with_cpu("div", [](const Inputs& in) { return in[0] / in[1]; },
                   {normal(sa), positive(sb)});
  compare_with_cpu("pow", [](const Inputs& in) { return pow(in[0], in[1]); },
                   {positive(sa), normal(sb)});
  compare_with_cpu("same shape mul", [](const Inputs& in) { return in[0] * in[1]; },
                   {normal({1000}), normal({1000})});
  compare_with_cpu("scalar forms",
                   [](const Inputs& in) { return rdiv(2.0f, in[0]) + (3.0f - in[0]) * 0.5f; },
                   {positive({6, 7})});
  compare_with_cpu("broadcast_to", [](const Inputs& in) { return broadcast_to(in[0], {2, 3, 4}); },
                   {normal({3, 1})});
}

BOOST_AUTO_TEST_CASE(unary_ops_and_activations) {
  manual_seed(4);
  const Shape s = {4, 33};
  const std::vector<std::pair<std::string, Tensor (*)(const Tensor&)>> any_sign = {
      {"neg", neg}, {"exp", exp}, {"abs", abs}, {"relu", relu}, {"gelu", gelu},
      {"silu", silu}, {"sigmoid", sigmoid}, {"tanh", tanh}};
  for (const auto& [name, op] : any_sign)
    compare_with_cpu(name, [op = op](const Inputs& in) { return op(in[0]); }, {normal(s)});
  const std::vector<std::pair<std::string, Tensor (*)(const Tensor&)>> positive_only = {
      {"log", log}, {"sqrt", sqrt}, {"rsqrt", rsqrt}};
  for (const auto& [name, op] : positive_only)
    compare_with_cpu(name, [op = op](const Inputs& in) { return op(in[0]); }, {positive(s)});
  compare_with_cpu("elu", [](const Inputs& in) { return elu(in[0], 0.7f); }, {normal(s)});
  compare_with_cpu("clamp", [](const Inputs& in) { return clamp(in[0], -0.5f, 0.8f); },
                   {normal(s)});
  compare_with_cpu("pow 2", [](const Inputs& in) { return pow(in[0], 2.0f); }, {normal(s)});
  compare_with_cpu("pow 1.5", [](const Inputs& in) { return pow(in[0], 1.5f); }, {positive(s)});
}

BOOST_AUTO_TEST_CASE(reductions) {
  manual_seed(5);
  const Shape s = {3, 40, 5};
  compare_with_cpu("sum all", [](const Inputs& in) { return sum(in[0]); }, {normal(s)});
  compare_with_cpu("sum last", [](const Inputs& in) { return sum(in[0], {-1}); }, {normal(s)});
  compare_with_cpu("sum middle", [](const Inputs& in) { return sum(in[0], {1}, true); },
                   {normal(s)});
  compare_with_cpu("sum 0 and 2", [](const Inputs& in) { return sum(in[0], {0, 2}); },
                   {normal(s)});
  compare_with_cpu("sum long rows", [](const Inputs& in) { return sum(in[0], {1}); },
                   {normal({4, 3000})});
  compare_with_cpu("mean", [](const Inputs& in) { return mean(in[0], {1}); }, {normal(s)});
  compare_with_cpu("var", [](const Inputs& in) { return var(in[0], {-1}); }, {normal(s)});
  compare_with_cpu("max middle", [](const Inputs& in) { return max(in[0], 1); }, {normal(s)});
  compare_with_cpu("max last", [](const Inputs& in) { return max(in[0], -1, true); },
                   {normal(s)});
  compare_with_cpu("max all", [](const Inputs& in) { return max(in[0]); }, {normal(s)});
  compare_with_cpu("argmax", [](const Inputs& in) { return argmax(in[0], 1); }, {normal(s)});
}

BOOST_AUTO_TEST_CASE(softmax_and_log_softmax) {
  manual_seed(6);
  for (int64_t dim : {-1, 1, 0}) {
    const std::string d = " dim " + std::to_string(dim);
    compare_with_cpu("softmax" + d, [dim](const Inputs& in) { return softmax(in[0], dim); },
                     {normal({4, 7, 33})});
    compare_with_cpu("log_softmax" + d,
                     [dim](const Inputs& in) { return log_softmax(in[0], dim); },
                     {normal({4, 7, 33})});
  }
  compare_with_cpu("softmax long rows", [](const Inputs& in) { return softmax(in[0], -1); },
                   {mul(normal({3, 5000}), 4.0f)});
  // Masked entries (-inf) get probability 0; a fully masked row is NaN on both devices.
  const float inf = INFINITY;
  Tensor masked = from_vector({1, -inf, 2, 0.5f, -inf, -inf, -inf, -inf}, {2, 4});
  for (bool log : {false, true}) {
    Tensor want = log ? log_softmax(masked, 1) : softmax(masked, 1);
    Tensor got = log ? log_softmax(masked.to(Device::cuda), 1) : softmax(masked.to(Device::cuda), 1);
    gpu_testing::expect_close(got, want, 1e-4f, log ? "masked log_softmax" : "masked softmax");
  }
}

BOOST_AUTO_TEST_CASE(layer_norm_forward_and_backward) {
  manual_seed(7);
  for (int64_t D : {3, 40, 1000}) {
    const std::string d = " D=" + std::to_string(D);
    compare_with_cpu("layer_norm" + d,
                     [](const Inputs& in) { return layer_norm(in[0], in[1], in[2]); },
                     {add(normal({2, 5, D}), 3.0f), normal({D}), normal({D})});
    compare_with_cpu("layer_norm no affine" + d,
                     [](const Inputs& in) { return layer_norm(in[0], Tensor(), Tensor()); },
                     {normal({6, D})});
  }
}

BOOST_AUTO_TEST_CASE(shape_ops) {
  manual_seed(8);
  const Shape s = {3, 4, 5};
  compare_with_cpu("transpose", [](const Inputs& in) { return transpose(in[0], 0, 2); },
                   {normal(s)});
  compare_with_cpu("permute", [](const Inputs& in) { return permute(in[0], {1, 2, 0}); },
                   {normal(s)});
  compare_with_cpu("narrow", [](const Inputs& in) { return narrow(in[0], 1, 1, 2); },
                   {normal(s)});
  compare_with_cpu("slice step", [](const Inputs& in) { return slice(in[0], 2, 0, 5, 2); },
                   {normal(s)});
  compare_with_cpu("concat", [](const Inputs& in) { return concat({in[0], in[1]}, 1); },
                   {normal(s), normal({3, 2, 5})});
  compare_with_cpu("stack", [](const Inputs& in) { return stack({in[0], in[1]}, 0); },
                   {normal(s), normal(s)});
  compare_with_cpu("pad", [](const Inputs& in) { return pad(in[0], {1, 2, 0, 1}, 0.5f); },
                   {normal(s)});
  compare_with_cpu("glu", [](const Inputs& in) { return glu(in[0], 1); }, {normal(s)});
  compare_with_cpu("large transpose",
                   [](const Inputs& in) { return transpose(in[0], 1, 2); },
                   {normal({2, 300, 70})});
}

BOOST_AUTO_TEST_SUITE_END()
