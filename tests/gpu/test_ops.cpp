// Every op with a CUDA kernel, run on fresh random inputs on both devices: outputs and
// gradients must agree with the CPU within 1e-4 relative (float32) or 1e-3 (TF32 matmul).
#include <boost/test/unit_test.hpp>
#include <cmath>

#include "autograd/kernels/optim.h"
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

BOOST_AUTO_TEST_CASE(batch_norm_train_and_eval) {
  manual_seed(13);
  for (const Shape& s : {Shape{6, 4}, Shape{3, 5, 70}}) {
    const int64_t C = s[1];
    std::string d = " ";  // (not " " + shape_str(s): GCC 12 warns falsely there)
    d += shape_str(s);
    compare_with_cpu("batch_norm train" + d,
                     [](const Inputs& in) {
                       return batch_norm(in[0], in[1], in[2], Tensor(), Tensor(), true);
                     },
                     {add(normal(s), 2.0f), normal({C}), normal({C})});
    compare_with_cpu("batch_norm train no affine" + d,
                     [](const Inputs& in) {
                       return batch_norm(in[0], Tensor(), Tensor(), Tensor(), Tensor(), true);
                     },
                     {normal(s)});
    // Running statistics: updated the same way; then used in eval.
    Tensor x = normal(s), rm = normal({C}), rv = uniform({C}, 0.5f, 2.0f);
    Tensor rm_gpu = rm.to(Device::cuda), rv_gpu = rv.to(Device::cuda);
    batch_norm(x, Tensor(), Tensor(), rm, rv, true, 0.2f);
    batch_norm(x.to(Device::cuda), Tensor(), Tensor(), rm_gpu, rv_gpu, true, 0.2f);
    gpu_testing::expect_close(rm_gpu, rm, 1e-4f, "running_mean" + d);
    gpu_testing::expect_close(rv_gpu, rv, 1e-4f, "running_var" + d);
    compare_with_cpu("batch_norm eval" + d,
                     [rm, rv](const Inputs& in) {
                       const Device dev = in[0].device();
                       return batch_norm(in[0], in[1], in[2], rm.to(dev), rv.to(dev), false);
                     },
                     {normal(s), normal({C}), normal({C})});
  }
}

BOOST_AUTO_TEST_CASE(convolutions) {
  manual_seed(14);
  compare_with_cpu("conv1d stride 2 pad 1 dil 2",
                   [](const Inputs& in) { return conv1d(in[0], in[1], in[2], 2, 1, 2); },
                   {normal({2, 3, 17}), normal({4, 3, 3}), normal({4})});
  compare_with_cpu("conv1d groups 2 no bias",
                   [](const Inputs& in) { return conv1d(in[0], in[1], Tensor(), 1, 2, 1, 2); },
                   {normal({3, 4, 11}), normal({6, 2, 5})});
  compare_with_cpu("depthwise conv1d",
                   [](const Inputs& in) { return conv1d(in[0], in[1], in[2], 1, 7, 1, 5); },
                   {normal({2, 5, 40}), normal({5, 1, 15}), normal({5})});
  compare_with_cpu("pointwise conv1d",
                   [](const Inputs& in) { return conv1d(in[0], in[1], in[2]); },
                   {normal({2, 6, 9}), normal({3, 6, 1}), normal({3})});
  compare_with_cpu("conv2d stride 2 pad 1",
                   [](const Inputs& in) { return conv2d(in[0], in[1], in[2], {2, 2}, {1, 1}); },
                   {normal({2, 3, 13, 10}), normal({4, 3, 3, 3}), normal({4})});
  compare_with_cpu("conv2d subsampling shape",
                   [](const Inputs& in) { return conv2d(in[0], in[1], in[2], {2, 2}); },
                   {normal({2, 1, 30, 20}), normal({8, 1, 3, 3}), normal({8})});
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

BOOST_AUTO_TEST_CASE(index_and_mask_ops) {
  manual_seed(9);
  Tensor idx = from_int_vector({2, 0, 5, 2, 2}, {5});  // repeats accumulate gradient
  compare_with_cpu("index_select",
                   [](const Inputs& in) { return index_select(in[0], 1, in[1]); },
                   {normal({4, 6, 3}), idx});
  std::vector<int64_t> g(3 * 2 * 4);
  for (size_t i = 0; i < g.size(); ++i) g[i] = static_cast<int64_t>(i * 7 % 5);
  compare_with_cpu("gather", [](const Inputs& in) { return gather(in[0], 1, in[1]); },
                   {normal({3, 5, 4}), from_int_vector(g, {3, 2, 4})});
  Tensor mask = from_mask({true, false, true}, {3, 1});
  compare_with_cpu("masked_fill",
                   [](const Inputs& in) { return masked_fill(in[0], in[1], -5.0f); },
                   {normal({2, 3, 4}), mask});
  Tensor cond = from_mask({true, false, false, true, true, false, true, false, false, true,
                           false, true}, {3, 4});
  compare_with_cpu("where", [](const Inputs& in) { return where(in[0], in[1], in[2]); },
                   {cond, normal({2, 3, 4}), normal({4})});
  BOOST_TEST(logical_not(cond.to(Device::cuda)).to_vector() == logical_not(cond).to_vector());
  Tensor bad = from_int_vector({1, 7, 9}, {3}).to(Device::cuda);
  BOOST_CHECK_EXCEPTION(index_select(normal({4, 6}).to(Device::cuda), 1, bad), Error,
                        [](const Error& e) {
                          return std::string(e.what()).find("index 7 out of range") !=
                                 std::string::npos;
                        });
}

BOOST_AUTO_TEST_CASE(rel_shift_forward_and_backward) {
  manual_seed(12);
  compare_with_cpu("rel_shift", [](const Inputs& in) { return rel_shift(in[0]); },
                   {normal({2, 3, 6, 11})});
  compare_with_cpu("rel_shift p > 2t - 1", [](const Inputs& in) { return rel_shift(in[0]); },
                   {normal({4, 5, 13})});
}

BOOST_AUTO_TEST_CASE(ctc_loss_and_gradient) {
  manual_seed(15);
  // Utterance 1 repeats a label; utterance 2 cannot fit its target (infeasible); 3 is short.
  const std::vector<int64_t> lengths = {12, 10, 3, 7};
  const std::vector<std::vector<int64_t>> targets = {{1, 2, 3}, {4, 4, 2, 2}, {1, 1, 2}, {5}};
  CtcResult want = ctc_loss(normal({4, 12, 6}), lengths, targets);
  CtcResult got = ctc_loss(normal({4, 12, 6}).to(Device::cuda), lengths, targets);
  BOOST_TEST(got.feasible == want.feasible);
  compare_with_cpu("ctc_loss",
                   [&](const Inputs& in) { return ctc_loss(in[0], lengths, targets).nll; },
                   {mul(normal({4, 12, 6}), 3.0f)});
}

BOOST_AUTO_TEST_CASE(dropout_draws_the_cpu_mask) {
  manual_seed(10);
  for (float p : {0.0f, 0.3f, 1.0f}) {
    compare_with_cpu("dropout p=" + std::to_string(p),
                     [p](const Inputs& in) {
                       Generator gen(42);  // the same draw on both devices
                       return dropout(in[0], p, true, gen);
                     },
                     {normal({5, 301})});
  }
}

// The optimizer kernels have no op of their own (nn/ calls them): table entries compared.
BOOST_AUTO_TEST_CASE(optimizer_kernels) {
  manual_seed(11);
  const int64_t n = 1000;
  const Tensor g = normal({n}), gg = g.to(Device::cuda);
  auto run_both = [&](const std::string& name, const std::vector<Tensor>& state,
                      const std::function<void(Device, const std::vector<Tensor>&,
                                               const Tensor&)>& step) {
    std::vector<Tensor> cpu, gpu;
    for (const Tensor& t : state) {
      cpu.push_back(clone_data(t));
      gpu.push_back(t.to(Device::cuda));
    }
    step(Device::cpu, cpu, g);
    step(Device::cuda, gpu, gg);
    for (size_t i = 0; i < state.size(); ++i)
      gpu_testing::expect_close(gpu[i], cpu[i], 1e-4f, name + " state " + std::to_string(i));
  };
  for (bool decoupled : {false, true}) {
    const kernels::AdamParams a{1e-2f, 0.9f, 0.999f, 1e-8f, 0.01f, decoupled, 0.1f, 0.001f};
    run_both(decoupled ? "adamw" : "adam",
             {normal({n}), normal({n}), uniform({n}, 0.0f, 1.0f)},
             [&](Device d, const std::vector<Tensor>& s, const Tensor& grad) {
               kernels::adam_step[d](s[0].data(), grad.data(), s[1].data(), s[2].data(), n, a);
             });
  }
  for (bool nesterov : {false, true}) {
    const kernels::SgdParams sgd{0.1f, 0.9f, 1e-4f, nesterov};
    run_both("sgd", {normal({n}), normal({n})},
             [&](Device d, const std::vector<Tensor>& s, const Tensor& grad) {
               kernels::sgd_step[d](s[0].data(), grad.data(), s[1].data(), n, sgd);
             });
  }
  run_both("scale", {normal({n})}, [](Device d, const std::vector<Tensor>& s, const Tensor&) {
    kernels::scale[d](s[0].data(), s[0].numel(), 0.25f);
  });
  const double want = kernels::sum_squares[Device::cpu](g.data(), n);
  const double got = kernels::sum_squares[Device::cuda](gg.data(), n);
  BOOST_TEST(std::fabs(got - want) <= 1e-9 * want);
}

BOOST_AUTO_TEST_SUITE_END()
