#include "op_table.h"

#include <algorithm>
#include <numeric>
#include <random>

namespace op_table {
namespace {

using ag::Tensor;
using V = Values;

// Bench sizes: a Conformer layer's (batch 8 x 250 frames, d_model 256, 4 heads of 64, FFN
// 1024, depthwise kernel 15) and its front end (8 x 1000 frames of 80 fbanks).
constexpr int64_t B = 8, T = 250, D = 256, H = 4, DK = 64, FF = 1024, K = 15, F = 80;

// The generator of the random ops (dropout): one fixed seed per call, so that repeated calls
// (finite differences, CPU then CUDA) draw one mask.
ag::Generator& fixed_generator() {
  static thread_local ag::Generator gen;
  gen.seed(7);
  return gen;
}

std::vector<Row> build() {
  std::vector<Row> r;
  auto add = [&](std::string name, Call call, std::vector<Input> check,
                 std::vector<Input> bench = {}, float cuda_rtol = 1e-4f) {
    r.push_back({std::move(name), std::move(call), std::move(check), std::move(bench),
                 cuda_rtol});
  };
  const std::vector<Input> act_bench{{{B, T, FF}}};

  // binary.h
  add("add", [](const Inputs& in) { return ag::add(in[0], in[1]); },
      {{{3, 1, 5}}, {{4, 1}}}, {{{B, T, D}}, {{D}}});
  add("sub", [](const Inputs& in) { return ag::sub(in[0], in[1]); },
      {{{3, 1, 5}}, {{4, 1}}}, {{{B, T, D}}, {{B, T, D}}});
  add("mul", [](const Inputs& in) { return ag::mul(in[0], in[1]); },
      {{{3, 1, 5}}, {{4, 1}}}, {{{B, T, D}}, {{B, T, D}}});
  add("div", [](const Inputs& in) { return ag::div(in[0], in[1]); },
      {{{3, 1, 5}}, {{4, 1}, V::positive}}, {{{B, T, D}}, {{B, T, D}, V::positive}});
  add("pow", [](const Inputs& in) { return ag::pow(in[0], in[1]); },
      {{{3, 1, 5}, V::positive}, {{4, 1}}});
  add("scalar forms", [](const Inputs& in) {
        return ag::add(ag::rdiv(2.0f, in[0]), ag::mul(ag::rsub(3.0f, in[0]), 0.5f));
      },
      {{{6, 7}, V::positive}});
  add("pow scalar", [](const Inputs& in) { return ag::pow(in[0], 1.5f); },
      {{{6, 7}, V::positive}});
  add("broadcast_to", [](const Inputs& in) { return ag::broadcast_to(in[0], {2, 3, 4}); },
      {{{3, 1}}});

  // unary.h
  using Unary = Tensor (*)(const Tensor&);
  const std::vector<std::tuple<std::string, Unary, V>> unary = {
      {"neg", ag::neg, V::normal},         {"exp", ag::exp, V::normal},
      {"log", ag::log, V::positive},       {"sqrt", ag::sqrt, V::positive},
      {"rsqrt", ag::rsqrt, V::positive},   {"abs", ag::abs, V::distinct},
      {"relu", ag::relu, V::distinct},     {"gelu", ag::gelu, V::normal},
      {"silu", ag::silu, V::normal},       {"sigmoid", ag::sigmoid, V::normal},
      {"tanh", ag::tanh, V::normal}};
  for (const auto& [name, op, values] : unary)
    add(name, [op = op](const Inputs& in) { return op(in[0]); }, {{{4, 33}, values}},
        {{{B, T, FF}, values}});
  add("clamp", [](const Inputs& in) { return ag::clamp(in[0], -0.5f, 0.5f); },
      {{{4, 33}, V::distinct}});
  add("elu", [](const Inputs& in) { return ag::elu(in[0], 0.7f); }, {{{4, 33}, V::distinct}});

  // reduce.h
  add("sum", [](const Inputs& in) { return ag::sum(in[0]); }, {{{3, 4, 5}}});
  add("sum dims keepdim", [](const Inputs& in) { return ag::sum(in[0], {0, 2}, true); },
      {{{3, 4, 5}}});
  add("sum last dim", [](const Inputs& in) { return ag::sum(in[0], {-1}); }, {{{3, 4, 5}}},
      {{{B, T, D}}});
  add("mean", [](const Inputs& in) { return ag::mean(in[0], {1}); }, {{{3, 4, 5}}},
      {{{B, T, D}}});
  add("var", [](const Inputs& in) { return ag::var(in[0], {-1}); }, {{{3, 4, 5}}});
  add("max dim", [](const Inputs& in) { return ag::max(in[0], 1); }, {{{3, 4, 5}, V::distinct}});
  add("max all", [](const Inputs& in) { return ag::max(in[0]); }, {{{3, 4, 5}, V::distinct}});

  // matmul.h
  for (bool ta : {false, true})
    for (bool tb : {false, true})
      add(std::string("matmul") + (ta ? " ta" : "") + (tb ? " tb" : ""),
          [ta, tb](const Inputs& in) { return ag::matmul(in[0], in[1], ta, tb); },
          {{ta ? ag::Shape{4, 5} : ag::Shape{5, 4}}, {tb ? ag::Shape{3, 4} : ag::Shape{4, 3}}});
  add("matmul batched broadcast", [](const Inputs& in) {
        return ag::matmul(in[0], in[1], false, true);
      },
      {{{2, 1, 4, 5}}, {{3, 6, 5}}}, {{{B, H, T, DK}}, {{B, H, T, DK}}});
  add("linear", [](const Inputs& in) { return ag::linear(in[0], in[1], in[2]); },
      {{{2, 7, 8}}, {{5, 8}}, {{5}}}, {{{B, T, D}}, {{FF, D}}, {{FF}}});
  add("linear no bias", [](const Inputs& in) { return ag::linear(in[0], in[1]); },
      {{{2, 7, 8}}, {{5, 8}}});
  for (const auto& [name, act] : {std::pair{"linear relu", ag::Activation::relu},
                                  std::pair{"linear gelu", ag::Activation::gelu},
                                  std::pair{"linear silu", ag::Activation::silu}})
    add(name, [act = act](const Inputs& in) { return ag::linear(in[0], in[1], in[2], act); },
        {{{2, 7, 8}}, {{5, 8}}, {{5}}}, {{{B, T, D}}, {{FF, D}}, {{FF}}});

  // norm.h
  add("layer_norm", [](const Inputs& in) { return ag::layer_norm(in[0], in[1], in[2]); },
      {{{4, 6}}, {{6}}, {{6}}}, {{{B, T, D}}, {{D}}, {{D}}});
  add("batch_norm", [](const Inputs& in) {
        const int64_t C = in[0].size(1);
        Tensor mean = ag::zeros({C}, ag::DType::f32, in[0].device());
        Tensor var = ag::ones({C}, in[0].device());
        return ag::batch_norm(in[0], in[1], in[2], mean, var, true);
      },
      {{{4, 3, 5}}, {{3}}, {{3}}}, {{{B, D, T}}, {{D}}, {{D}}});

  // conv.h
  add("conv1d stride padding", [](const Inputs& in) {
        return ag::conv1d(in[0], in[1], in[2], 2, 1);
      },
      {{{2, 3, 9}}, {{4, 3, 3}}, {{4}}}, {{{B, D, T}}, {{2 * D, D, 1}}, {{2 * D}}});
  add("conv1d depthwise", [](const Inputs& in) {
        return ag::conv1d(in[0], in[1], in[2], 1, 2, 1, in[0].size(1));
      },
      {{{2, 4, 9}}, {{4, 1, 5}}, {{4}}}, {{{B, D, T}}, {{D, 1, K}}, {{D}}});
  add("conv2d", [](const Inputs& in) { return ag::conv2d(in[0], in[1], in[2], {2, 2}); },
      {{{2, 1, 9, 8}}, {{3, 1, 3, 3}}, {{3}}}, {{{B, 1, 4 * T, F}}, {{D, 1, 3, 3}}, {{D}}});

  // shape.h
  add("reshape", [](const Inputs& in) { return ag::reshape(in[0], {4, 6}); }, {{{2, 3, 4}}});
  add("flatten", [](const Inputs& in) { return ag::flatten(in[0], 1); }, {{{2, 3, 4}}});
  add("unsqueeze squeeze", [](const Inputs& in) {
        return ag::squeeze(ag::unsqueeze(in[0], 1), 2);
      },
      {{{2, 1, 4}}});
  add("transpose", [](const Inputs& in) { return ag::transpose(in[0], 0, 2); }, {{{2, 3, 4}}});
  add("narrow", [](const Inputs& in) { return ag::narrow(in[0], 2, 1, 2); }, {{{2, 3, 4}}});
  add("permute", [](const Inputs& in) { return ag::permute(in[0], {0, 2, 1, 3}); },
      {{{2, 3, 4, 5}}}, {{{B, T, H, DK}}});
  add("slice step", [](const Inputs& in) { return ag::slice(in[0], 1, 1, 6, 2); },
      {{{3, 7, 2}}});
  add("concat", [](const Inputs& in) { return ag::concat({in[0], in[1]}, 1); },
      {{{2, 3, 4}}, {{2, 2, 4}}}, {{{B, T, D}}, {{B, T, D}}});
  add("stack", [](const Inputs& in) { return ag::stack({in[0], in[1]}, 1); },
      {{{2, 3}}, {{2, 3}}});
  add("split", [](const Inputs& in) {
        std::vector<Tensor> parts = ag::split(in[0], {1, 3}, 1);
        return ag::concat({parts[1], ag::mul(parts[0], 2.0f)}, 1);
      },
      {{{2, 4, 3}}});
  add("chunk", [](const Inputs& in) {
        std::vector<Tensor> parts = ag::chunk(in[0], 2, 0);
        return ag::mul(parts[0], parts[1]);
      },
      {{{4, 3}}});
  add("pad", [](const Inputs& in) { return ag::pad(in[0], {1, 2, 0, 1}); }, {{{2, 3, 4}}});
  add("glu", [](const Inputs& in) { return ag::glu(in[0], 1); }, {{{2, 6, 3}}},
      {{{B, 2 * D, T}}});

  // index.h
  add("index_select", [](const Inputs& in) { return ag::index_select(in[0], 0, in[1]); },
      {{{5, 4}}, {{6}, V::index, 5}});
  add("gather", [](const Inputs& in) { return ag::gather(in[0], 1, in[1]); },
      {{{4, 6}}, {{4, 3}, V::index, 6}});
  add("masked_fill", [](const Inputs& in) { return ag::masked_fill(in[0], in[1], -2.0f); },
      {{{3, 4}}, {{3, 4}, V::mask}});
  add("where", [](const Inputs& in) { return ag::where(in[0], in[1], in[2]); },
      {{{3, 4}, V::mask}, {{3, 4}}, {{3, 4}}});

  // rel_shift.h
  add("rel_shift", [](const Inputs& in) { return ag::rel_shift(in[0]); }, {{{2, 3, 4, 7}}},
      {{{B, H, T, 2 * T - 1}}});

  // softmax.h, dropout.h
  add("softmax", [](const Inputs& in) { return ag::softmax(in[0], -1); }, {{{3, 4, 5}}},
      {{{B, H, T, T}}});
  add("softmax inner dim", [](const Inputs& in) { return ag::softmax(in[0], 1); },
      {{{3, 4, 5}}});
  add("log_softmax", [](const Inputs& in) { return ag::log_softmax(in[0], -1); }, {{{3, 4, 5}}});
  add("masked_softmax dropout", [](const Inputs& in) {
        return ag::masked_softmax(in[0], in[1], 0.3f, true, fixed_generator());
      },
      {{{2, 3, 4, 5}}, {{2, 1, 5}, V::mask}}, {{{B, H, T, T}}, {{B, 1, T}, V::mask}});
  add("masked_softmax row masks", [](const Inputs& in) {
        return ag::masked_softmax(in[0], in[1], 0.0f, false);
      },
      {{{2, 3, 4, 5}}, {{2, 4, 5}, V::mask}});
  add("dropout", [](const Inputs& in) { return ag::dropout(in[0], 0.3f, true, fixed_generator()); },
      {{{3, 4, 5}}}, act_bench);

  // ctc.h: logits [2, 7, 5]; the bench's 8 utterances of 250 frames, 60 labels of 30.
  add("ctc_loss", [](const Inputs& in) {
        const int64_t b = in[0].size(0), t = in[0].size(1), v = in[0].size(2);
        std::vector<int64_t> lengths(b, t);
        lengths.back() = t - 1;
        std::vector<std::vector<int64_t>> targets(b);
        for (int64_t i = 0; i < b; ++i)
          for (int64_t k = 0; k < (t < 20 ? 2 + i : 60); ++k)
            targets[i].push_back(1 + (k * 7 + i) % (v - 1));
        return ag::ctc_loss(in[0], lengths, targets).nll;
      },
      {{{2, 7, 5}}}, {{{B, T, 30}}});
  return r;
}

}  // namespace

const std::vector<Row>& rows() {
  static const std::vector<Row> all = build();
  return all;
}

Inputs make_inputs(const std::vector<Input>& inputs, uint64_t seed) {
  ag::Generator gen(seed);
  std::mt19937_64 rng(seed);
  Inputs out;
  for (const Input& in : inputs) {
    const int64_t n = ag::numel_of(in.shape);
    switch (in.values) {
      case V::normal:
        out.push_back(ag::normal(in.shape, 0.0f, 1.0f, gen));
        break;
      case V::positive:
        out.push_back(ag::uniform(in.shape, 0.5f, 2.0f, gen));
        break;
      case V::distinct: {  // 0.05 apart, none within 0.025 of 0 or of a multiple of 0.05
        std::vector<float> v(static_cast<size_t>(n));
        for (int64_t k = 0; k < n; ++k) v[k] = 0.05f * static_cast<float>(k - n / 2) + 0.025f;
        std::shuffle(v.begin(), v.end(), rng);
        out.push_back(ag::from_vector(v, in.shape));
        break;
      }
      case V::index: {
        std::vector<int64_t> v(static_cast<size_t>(n));
        for (int64_t& x : v) x = static_cast<int64_t>(rng() % static_cast<uint64_t>(in.bound));
        out.push_back(ag::from_int_vector(v, in.shape));
        break;
      }
      case V::mask: {
        const int64_t last = in.shape.empty() ? 1 : in.shape.back();
        std::vector<bool> v(static_cast<size_t>(n));
        for (int64_t k = 0; k < n; ++k) v[k] = rng() % 2 == 1 || k % last == 0;
        out.push_back(ag::from_mask(v, in.shape));
        break;
      }
    }
  }
  return out;
}

}  // namespace op_table
