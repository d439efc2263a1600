// conv1d / conv2d: forward against a direct loop over the definition, gradients, errors.
#include <boost/test/unit_test.hpp>

#include "common/gradcheck.h"

using namespace ag;
using testing::check_error;
using testing::check_gradients;
using testing::max_abs_diff;

namespace {

// One convolution in 2-D terms; a conv1d has H = KH = 1, sh = dh = 1, ph = 0.
struct Case {
  int64_t N, C_in, C_out, H, W, KH, KW;
  int64_t sh, sw, ph, pw, dh, dw, groups;
  bool bias;
};

int64_t out_len(int64_t in, int64_t k, int64_t s, int64_t p, int64_t d) {
  return (in + 2 * p - d * (k - 1) - 1) / s + 1;
}

// y[n, co, oh, ow] = b[co] + sum over the group's ci and kernel taps inside the input.
std::vector<float> reference(const Tensor& x, const Tensor& w, const Tensor& b, const Case& c) {
  const int64_t Ho = out_len(c.H, c.KH, c.sh, c.ph, c.dh);
  const int64_t Wo = out_len(c.W, c.KW, c.sw, c.pw, c.dw);
  const int64_t Cg = c.C_in / c.groups, Cog = c.C_out / c.groups;
  std::vector<float> xv = x.to_vector(), wv = w.to_vector();
  std::vector<float> bv = c.bias ? b.to_vector() : std::vector<float>(c.C_out, 0.0f);
  std::vector<float> y;
  for (int64_t n = 0; n < c.N; ++n)
    for (int64_t co = 0; co < c.C_out; ++co)
      for (int64_t oh = 0; oh < Ho; ++oh)
        for (int64_t ow = 0; ow < Wo; ++ow) {
          double acc = bv[co];
          for (int64_t j = 0; j < Cg; ++j)
            for (int64_t kh = 0; kh < c.KH; ++kh)
              for (int64_t kw = 0; kw < c.KW; ++kw) {
                int64_t ih = oh * c.sh + kh * c.dh - c.ph, iw = ow * c.sw + kw * c.dw - c.pw;
                if (ih < 0 || ih >= c.H || iw < 0 || iw >= c.W) continue;
                int64_t ci = co / Cog * Cg + j;
                acc += double(xv[((n * c.C_in + ci) * c.H + ih) * c.W + iw]) *
                       wv[((co * Cg + j) * c.KH + kh) * c.KW + kw];
              }
          y.push_back(static_cast<float>(acc));
        }
  return y;
}

Case conv1d_case(int64_t N, int64_t C_in, int64_t C_out, int64_t L, int64_t K, int64_t stride,
                 int64_t padding, int64_t dilation, int64_t groups, bool bias) {
  return {N, C_in, C_out, 1, L, 1, K, 1, stride, 0, padding, 1, dilation, groups, bias};
}

Case conv2d_case(int64_t N, int64_t C_in, int64_t C_out, int64_t H, int64_t W, int64_t KH,
                 int64_t KW, int64_t sh, int64_t sw, int64_t ph, int64_t pw, bool bias) {
  return {N, C_in, C_out, H, W, KH, KW, sh, sw, ph, pw, 1, 1, 1, bias};
}

struct Operands {
  Tensor x, w, b;
};

Operands conv1d_operands(const Case& c) {
  return {normal({c.N, c.C_in, c.W}), normal({c.C_out, c.C_in / c.groups, c.KW}),
          c.bias ? normal({c.C_out}) : Tensor()};
}

Operands conv2d_operands(const Case& c) {
  return {normal({c.N, c.C_in, c.H, c.W}), normal({c.C_out, c.C_in, c.KH, c.KW}),
          c.bias ? normal({c.C_out}) : Tensor()};
}

Tensor run_conv1d(const Case& c, const Tensor& x, const Tensor& w, const Tensor& b) {
  return conv1d(x, w, b, c.sw, c.pw, c.dw, c.groups);
}

Tensor run_conv2d(const Case& c, const Tensor& x, const Tensor& w, const Tensor& b) {
  return conv2d(x, w, b, {c.sh, c.sw}, {c.ph, c.pw});
}

void check_forward_1d(const Case& c) {
  Operands o = conv1d_operands(c);
  Tensor y = run_conv1d(c, o.x, o.w, o.b);
  Shape expected{c.N, c.C_out, out_len(c.W, c.KW, c.sw, c.pw, c.dw)};
  BOOST_REQUIRE_MESSAGE(y.shape() == expected, "shape " << shape_str(y.shape()));
  BOOST_CHECK_SMALL(max_abs_diff(y, from_vector(reference(o.x, o.w, o.b, c), expected)), 1e-4f);
}

void check_forward_2d(const Case& c) {
  Operands o = conv2d_operands(c);
  Tensor y = run_conv2d(c, o.x, o.w, o.b);
  Shape expected{c.N, c.C_out, out_len(c.H, c.KH, c.sh, c.ph, 1),
                 out_len(c.W, c.KW, c.sw, c.pw, 1)};
  BOOST_REQUIRE_MESSAGE(y.shape() == expected, "shape " << shape_str(y.shape()));
  BOOST_CHECK_SMALL(max_abs_diff(y, from_vector(reference(o.x, o.w, o.b, c), expected)), 1e-4f);
}

// Convolution is linear in each operand, so a large step has no truncation error and
// keeps float32 rounding in the differences small.
const testing::GradCheck kLinear{.eps = 1e-2f, .rtol = 1e-3f};

std::vector<Tensor> inputs_of(const Operands& o) {
  return o.b.defined() ? std::vector<Tensor>{o.x, o.w, o.b} : std::vector<Tensor>{o.x, o.w};
}

void check_gradients_1d(const Case& c) {
  check_gradients(
      [c](auto& in) { return run_conv1d(c, in[0], in[1], in.size() > 2 ? in[2] : Tensor()); },
      inputs_of(conv1d_operands(c)), kLinear);
}

void check_gradients_2d(const Case& c) {
  check_gradients(
      [c](auto& in) { return run_conv2d(c, in[0], in[1], in.size() > 2 ? in[2] : Tensor()); },
      inputs_of(conv2d_operands(c)), kLinear);
}

}  // namespace

BOOST_AUTO_TEST_CASE(conv1d_forward_general) {
  manual_seed(1);
  //                        N  Ci Co   L  K  s  p  d  g  bias
  for (const Case& c : {conv1d_case(2, 3, 4, 10, 3, 1, 0, 1, 1, true),
                        conv1d_case(1, 3, 5, 11, 3, 2, 1, 1, 1, false),
                        conv1d_case(3, 2, 3, 17, 4, 3, 2, 2, 1, true),
                        conv1d_case(5, 4, 6, 9, 3, 1, 1, 1, 2, true),
                        conv1d_case(2, 6, 3, 13, 2, 2, 3, 3, 3, false),
                        conv1d_case(3, 3, 6, 8, 3, 1, 1, 1, 3, true),      // channel multiplier 2
                        conv1d_case(3, 4, 5, 7, 1, 1, 0, 1, 1, true),      // pointwise: plain GEMM
                        conv1d_case(2, 4, 6, 7, 1, 1, 0, 1, 2, false),     // grouped pointwise
                        conv1d_case(2, 4, 3, 9, 1, 2, 0, 1, 1, true),      // 1-tap, strided
                        conv1d_case(2, 3, 2, 5, 7, 1, 1, 1, 1, true),      // kernel == padded input
                        conv1d_case(1, 2, 2, 4, 2, 1, 5, 1, 1, true)})     // padding > kernel
    check_forward_1d(c);
}

BOOST_AUTO_TEST_CASE(conv1d_forward_depthwise) {
  manual_seed(2);
  //                        N   C   C   L   K  s  p  d   g  bias
  for (const Case& c : {conv1d_case(2, 5, 5, 40, 31, 1, 15, 1, 5, true),  // Conformer-like
                        conv1d_case(2, 3, 3, 150, 31, 1, 15, 1, 3, true),  // 64-output tiles
                        conv1d_case(3, 4, 4, 37, 7, 1, 3, 1, 4, false),
                        conv1d_case(2, 3, 3, 20, 5, 2, 4, 2, 3, true),
                        conv1d_case(1, 3, 3, 9, 3, 3, 0, 1, 3, true),
                        conv1d_case(2, 2, 2, 6, 3, 1, 4, 1, 2, true),     // padding > kernel
                        conv1d_case(2, 3, 3, 8, 8, 1, 0, 1, 3, false),    // one output
                        conv1d_case(2, 1, 1, 12, 3, 1, 1, 2, 1, true)})   // C == groups == 1
    check_forward_1d(c);
}

BOOST_AUTO_TEST_CASE(conv2d_forward) {
  manual_seed(3);
  //                        N  Ci Co  H  W KH KW sh sw ph pw bias
  for (const Case& c : {conv2d_case(2, 3, 4, 7, 6, 3, 3, 1, 1, 0, 0, true),
                        conv2d_case(3, 2, 5, 9, 8, 3, 3, 2, 2, 1, 1, false),
                        conv2d_case(2, 3, 2, 8, 9, 2, 3, 2, 1, 0, 2, true),
                        conv2d_case(2, 4, 3, 5, 6, 1, 1, 1, 1, 0, 0, true),  // 1x1: plain GEMM
                        conv2d_case(2, 4, 3, 5, 6, 1, 1, 2, 2, 0, 0, false),
                        conv2d_case(1, 1, 2, 4, 3, 5, 4, 1, 3, 1, 1, true)})
    check_forward_2d(c);
}

// The Conv2dSubsampling front end with few channels: two 3x3 stride-2 convolutions.
BOOST_AUTO_TEST_CASE(conv2d_subsampling_shapes) {
  manual_seed(4);
  Case first = conv2d_case(8, 1, 4, 1000, 80, 3, 3, 2, 2, 0, 0, true);
  Case second = conv2d_case(8, 4, 4, 499, 39, 3, 3, 2, 2, 0, 0, true);
  Operands a = conv2d_operands(first);
  Tensor h = run_conv2d(first, a.x, a.w, a.b);
  BOOST_REQUIRE(h.shape() == (Shape{8, 4, 499, 39}));
  BOOST_CHECK_SMALL(max_abs_diff(h, from_vector(reference(a.x, a.w, a.b, first), h.shape())),
                    1e-4f);
  Operands b = conv2d_operands(second);
  Tensor y = run_conv2d(second, h, b.w, b.b);
  BOOST_REQUIRE(y.shape() == (Shape{8, 4, 249, 19}));
  BOOST_CHECK_SMALL(max_abs_diff(y, from_vector(reference(h, b.w, b.b, second), y.shape())),
                    1e-4f);
}

BOOST_AUTO_TEST_CASE(conv1d_gradients) {
  manual_seed(5);
  //                           N  Ci Co  L  K  s  p  d  g  bias
  for (const Case& c : {conv1d_case(3, 4, 6, 11, 3, 2, 1, 2, 2, true),
                        conv1d_case(2, 3, 2, 9, 4, 1, 2, 1, 1, false),
                        conv1d_case(3, 4, 5, 6, 1, 1, 0, 1, 1, true),    // pointwise
                        conv1d_case(2, 2, 4, 7, 3, 1, 1, 1, 2, true),    // channel multiplier
                        conv1d_case(3, 4, 4, 12, 5, 1, 2, 1, 4, true),   // depthwise
                        conv1d_case(2, 2, 2, 75, 7, 1, 3, 1, 2, true),   // 64-output tiles
                        conv1d_case(1, 2, 2, 40, 35, 1, 17, 1, 2, false),  // two tap tiles
                        conv1d_case(2, 3, 3, 30, 5, 1, 4, 2, 3, true),   // dilated
                        conv1d_case(2, 3, 3, 13, 3, 2, 3, 2, 3, false),  // strided, dilated
                        conv1d_case(2, 2, 2, 5, 2, 1, 3, 1, 2, true)})   // padding > kernel
    check_gradients_1d(c);
}

BOOST_AUTO_TEST_CASE(conv2d_gradients) {
  manual_seed(6);
  //                        N  Ci Co H  W KH KW sh sw ph pw bias
  for (const Case& c : {conv2d_case(3, 2, 3, 6, 5, 3, 3, 2, 2, 1, 1, true),
                        conv2d_case(2, 2, 2, 5, 7, 2, 3, 1, 2, 0, 1, false),
                        conv2d_case(3, 3, 2, 4, 3, 1, 1, 1, 1, 0, 0, true)})
    check_gradients_2d(c);
}

// Only one operand needs a gradient: the backward skips the others (and their saved inputs).
BOOST_AUTO_TEST_CASE(gradients_of_one_operand) {
  manual_seed(7);
  for (const Case& c : {conv1d_case(3, 4, 6, 10, 3, 1, 1, 1, 2, true),
                        conv1d_case(2, 4, 4, 10, 5, 1, 2, 1, 4, true)})
    for (int which = 0; which < 3; ++which) {
      Operands o = conv1d_operands(c);
      std::vector<Tensor> in = inputs_of(o);
      in[which].set_requires_grad(true);
      check_gradients([c](auto& v) { return run_conv1d(c, v[0], v[1], v[2]); }, in, kLinear);
      for (int other = 0; other < 3; ++other)
        if (other != which) BOOST_CHECK(!in[other].grad().defined());
    }
}

// An empty batch gives an empty output, and zero weight and bias gradients.
BOOST_AUTO_TEST_CASE(empty_batch) {
  for (int64_t groups : {1, 4}) {
    Tensor x = zeros({0, 4, 9}).set_requires_grad(true);
    Tensor w = ones({4, 4 / groups, 3}).set_requires_grad(true);
    Tensor b = ones({4}).set_requires_grad(true);
    Tensor y = conv1d(x, w, b, 1, 1, 1, groups);
    BOOST_CHECK(y.shape() == (Shape{0, 4, 9}));
    sum(y).backward();
    BOOST_CHECK(x.grad().shape() == x.shape());
    BOOST_CHECK_EQUAL(max_abs_diff(w.grad(), zeros(w.shape())), 0.0f);
    BOOST_CHECK_EQUAL(max_abs_diff(b.grad(), zeros({4})), 0.0f);
  }
}

BOOST_AUTO_TEST_CASE(conv1d_errors) {
  Tensor none;
  check_error([&] { conv1d(zeros({8, 80, 100}), zeros({256, 64, 3}), none); },
              "conv1d: input [8,80,100] has 80 channels, weight [256,64,3] expects 64 (groups 1)");
  check_error([&] { conv1d(zeros({2, 8, 10}), zeros({8, 2, 3}), none, 1, 0, 1, 2); },
              "conv1d: input [2,8,10] has 8 channels, weight [8,2,3] expects 4 (groups 2)");
  check_error([&] { conv1d(zeros({8, 80}), zeros({4, 80, 3}), none); },
              "conv1d: input [8,80] must be [N, C_in, L]");
  check_error([&] { conv1d(zeros({8, 80, 10}), zeros({4, 80}), none); },
              "conv1d: weight [4,80] must be [C_out, C_in/groups, K]");
  check_error([&] { conv1d(zeros({2, 8, 10}), zeros({6, 2, 3}), none, 1, 0, 1, 3); },
              "conv1d: input [2,8,10] has 8 channels, not divisible by groups 3");
  check_error([&] { conv1d(zeros({2, 6, 10}), zeros({4, 2, 3}), none, 1, 0, 1, 3); },
              "conv1d: weight [4,2,3] has 4 output channels, not divisible by groups 3");
  check_error([&] { conv1d(zeros({2, 3, 4}), zeros({5, 3, 5}), none, 1, 1, 2); },
              "conv1d: kernel 5 with dilation 2 spans 9, more than the padded input 6 "
              "(input [2,3,4], padding 1)");
  check_error([&] { conv1d(zeros({2, 3, 4}), zeros({5, 3, 0}), none); },
              "conv1d: weight [5,3,0] has an empty kernel");
  check_error([&] { conv1d(zeros({2, 3, 4}), zeros({5, 3, 2}), zeros({4})); },
              "conv1d: bias [4] does not match weight [5,3,2] (expects [5])");
  check_error([&] { conv1d(zeros({2, 3, 4}), zeros({5, 3, 2}), none, 0); },
              "conv1d: stride 0 must be positive");
  check_error([&] { conv1d(zeros({2, 3, 4}), zeros({5, 3, 2}), none, 1, -1); },
              "conv1d: padding -1 must be non-negative");
  check_error([&] { conv1d(zeros({2, 3, 4}), zeros({5, 3, 2}), none, 1, 0, 0); },
              "conv1d: dilation 0 must be positive");
  check_error([&] { conv1d(zeros({2, 3, 4}), zeros({5, 3, 2}), none, 1, 0, 1, 0); },
              "conv1d: groups 0 must be positive");
  check_error([&] { conv1d(zeros({2, 3, 4}, DType::i64), zeros({5, 3, 2}), none); },
              "conv1d: expects float32, got int64");
}

BOOST_AUTO_TEST_CASE(conv2d_errors) {
  Tensor none;
  check_error([&] { conv2d(zeros({1, 3, 5, 5}), zeros({4, 2, 3, 3}), none); },
              "conv2d: input [1,3,5,5] has 3 channels, weight [4,2,3,3] expects 2 (groups 1)");
  check_error([&] { conv2d(zeros({1, 3, 5}), zeros({4, 3, 3, 3}), none); },
              "conv2d: input [1,3,5] must be [N, C_in, H, W]");
  check_error([&] { conv2d(zeros({1, 3, 5, 5}), zeros({4, 3, 3}), none); },
              "conv2d: weight [4,3,3] must be [C_out, C_in, KH, KW]");
  check_error([&] { conv2d(zeros({1, 1, 2, 2}), zeros({4, 1, 3, 3}), none, {1, 1}, {0, 1}); },
              "conv2d: kernel [3,3] with dilation [1,1] spans [3,3], more than the padded "
              "input [2,4] (input [1,1,2,2], padding [0,1])");
  check_error([&] { conv2d(zeros({1, 1, 5, 5}), zeros({4, 1, 3, 3}), none, {1, 0}); },
              "conv2d: stride [1,0] must be positive");
  check_error([&] { conv2d(zeros({1, 1, 5, 5}), zeros({4, 1, 3, 3}), none, {1, 1}, {-1, 0}); },
              "conv2d: padding [-1,0] must be non-negative");
  check_error([&] { conv2d(zeros({1, 1, 5, 5}), zeros({4, 1, 3, 3}), zeros({4, 1})); },
              "conv2d: bias [4,1] does not match weight [4,1,3,3] (expects [4])");
}
