// Shape ops: forward on hand values and against naive loops, gradients, error messages.
#include <boost/test/unit_test.hpp>

#include "common/gradcheck.h"

using namespace ag;
using testing::check_error;
using testing::check_gradients;
using testing::check_values;

namespace {

// Row-major coordinates of flat index i in `shape`.
std::vector<int64_t> coords(int64_t i, const Shape& shape) {
  std::vector<int64_t> c(shape.size());
  for (size_t k = shape.size(); k-- > 0;) {
    c[k] = i % shape[k];
    i /= shape[k];
  }
  return c;
}

int64_t flat(const std::vector<int64_t>& c, const Shape& shape) {
  int64_t f = 0;
  for (size_t k = 0; k < shape.size(); ++k) f = f * shape[k] + c[k];
  return f;
}

// out[c] = x[c permuted back], element by element.
std::vector<float> naive_permute(const Tensor& x, const std::vector<int64_t>& dims) {
  Shape out;
  for (int64_t d : dims) out.push_back(x.shape()[d]);
  std::vector<float> v = x.to_vector(), r(v.size());
  for (int64_t i = 0; i < static_cast<int64_t>(r.size()); ++i) {
    std::vector<int64_t> c = coords(i, out), src(c.size());
    for (size_t k = 0; k < dims.size(); ++k) src[dims[k]] = c[k];
    r[i] = v[flat(src, x.shape())];
  }
  return r;
}

// begin, begin + 1, ..., end - 1
std::vector<float> range(int64_t begin, int64_t end) {
  std::vector<float> v;
  for (int64_t i = begin; i < end; ++i) v.push_back(static_cast<float>(i));
  return v;
}

Tensor arange_shaped(const Shape& s) { return from_vector(range(0, numel_of(s)), s); }

}  // namespace

BOOST_AUTO_TEST_CASE(transpose_and_permute_values) {
  Tensor x = from_vector({1, 2, 3, 4, 5, 6}, {2, 3});
  Tensor t = transpose(x, 0, 1);
  BOOST_CHECK(t.shape() == (Shape{3, 2}));
  check_values(t, {1, 4, 2, 5, 3, 6});
  check_values(transpose(x, -1, -2), {1, 4, 2, 5, 3, 6});
  BOOST_CHECK(transpose(x, 1, 1).same(x));  // identity: nothing to copy
  Tensor y = arange_shaped({2, 3, 4});
  Tensor p = permute(y, {2, 0, 1});
  BOOST_CHECK(p.shape() == (Shape{4, 2, 3}));
  check_values(p, naive_permute(y, {2, 0, 1}));
  BOOST_CHECK_EQUAL(p.at({3, 1, 2}), y.at({1, 2, 3}));
}

BOOST_AUTO_TEST_CASE(permute_kernel_paths_match_naive_loops) {
  manual_seed(3);
  struct Case {
    Shape shape;
    std::vector<int64_t> dims;
  };
  std::vector<Case> cases = {
      {{2, 37, 4, 16}, {0, 2, 1, 3}},   // attention [B,T,H,D] -> [B,H,T,D]: contiguous runs
      {{2, 64, 8, 64}, {0, 2, 1, 3}},   // same, large enough to run on several threads
      {{3, 50, 70}, {0, 2, 1}},         // last-dim transpose: tiles with ragged edges
      {{4, 256, 96}, {0, 2, 1}},        // tiles on several threads
      {{5, 3, 7, 2}, {3, 2, 1, 0}},     // everything reversed
      {{1, 7, 1, 9}, {3, 1, 2, 0}},     // size-1 dims dropped from the plan
      {{6, 5}, {1, 0}},                 // short dims: strided rows, no tiles
      {{2, 3, 4, 5, 6}, {4, 1, 3, 0, 2}},
  };
  for (const Case& c : cases) {
    Tensor x = normal(c.shape);
    Tensor y = permute(x, c.dims);
    BOOST_TEST_CONTEXT("permute " << shape_str(c.shape) << " by " << shape_str(c.dims)) {
      check_values(y, naive_permute(x, c.dims), 0);
    }
  }
}

BOOST_AUTO_TEST_CASE(transpose_and_permute_gradients) {
  manual_seed(4);
  check_gradients([](auto& in) { return transpose(in[0], 0, 2); }, {normal({2, 3, 4})});
  check_gradients([](auto& in) { return permute(in[0], {0, 2, 1, 3}); }, {normal({2, 3, 2, 4})});
  check_gradients([](auto& in) { return permute(in[0], {2, 0, 1}); }, {normal({3, 9, 10})});
}

BOOST_AUTO_TEST_CASE(transpose_and_permute_errors) {
  Tensor x = zeros({2, 3, 4});
  check_error([&] { transpose(x, 0, 3); }, "transpose: dim 3 out of range for a 3-d tensor");
  check_error([&] { permute(x, {0, 1}); }, "permute: 2 dims given for [2,3,4]");
  check_error([&] { permute(x, {0, 2, 0}); }, "permute: dims [0,2,0] repeat dim 0 of [2,3,4]");
  check_error([&] { permute(x, {0, 1, -4}); }, "permute: dim -4 out of range for a 3-d tensor");
  check_error([] { transpose(arange(3, DType::i64), 0, 0); },
              "transpose: expects float32, got int64");
}

BOOST_AUTO_TEST_CASE(narrow_values_and_gradients) {
  Tensor x = arange_shaped({2, 5});
  Tensor n = narrow(x, 1, 1, 3);
  BOOST_CHECK(n.shape() == (Shape{2, 3}));
  check_values(n, {1, 2, 3, 6, 7, 8});
  check_values(narrow(x, 0, 1, 1), {5, 6, 7, 8, 9});
  check_values(narrow(x, -1, -2, 2), {3, 4, 8, 9});  // negative dim and start
  BOOST_CHECK(narrow(x, 1, 5, 0).shape() == (Shape{2, 0}));
  // One long row: the copy splits the row over threads.
  Tensor big = arange_shaped({200000});
  check_values(narrow(big, 0, 7, 150000), range(7, 150007), 0);
  manual_seed(5);
  check_gradients([](auto& in) { return narrow(in[0], 1, 1, 3); }, {normal({2, 5, 3})});
  check_gradients([](auto& in) { return narrow(in[0], 2, 2, 1); }, {normal({2, 5, 3})});
}

BOOST_AUTO_TEST_CASE(narrow_errors) {
  Tensor x = zeros({2, 5});
  check_error([&] { narrow(x, 1, 3, 4); },
              "narrow: start 3 + length 4 exceeds size 5 of dim 1 of [2,5]");
  check_error([&] { narrow(x, 1, -6, 1); },
              "narrow: start -6 out of range for size 5 of dim 1 of [2,5]");
  check_error([&] { narrow(x, 0, 0, -1); }, "narrow: negative length -1 for [2,5]");
  check_error([&] { narrow(x, 2, 0, 1); }, "narrow: dim 2 out of range for a 2-d tensor");
  check_error([] { narrow(full({}, 1.0f), 0, 0, 1); }, "narrow: a 0-d tensor has no dim 0");
}

BOOST_AUTO_TEST_CASE(slice_follows_python_slicing) {
  Tensor x = arange_shaped({5});
  // Expected values are Python's range(5)[start:end:step].
  check_values(slice(x, 0, -10, 3), {0, 1, 2});
  BOOST_CHECK_EQUAL(slice(x, 0, 3, 1).numel(), 0);
  check_values(slice(x, 0, 1, -1, 2), {1, 3});
  check_values(slice(x, 0, 0, 100, 3), {0, 3});
  check_values(slice(x, 0, -2, 5), {3, 4});
  BOOST_CHECK_EQUAL(slice(x, 0, 7, 9).numel(), 0);
  Tensor y = arange_shaped({2, 3, 4});
  Tensor s = slice(y, 2, 1, 4, 2);
  BOOST_CHECK(s.shape() == (Shape{2, 3, 2}));
  check_values(s, {1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23});
  check_values(slice(y, 0, 1, 2), range(12, 24));
  manual_seed(6);
  check_gradients([](auto& in) { return slice(in[0], 1, 0, 5, 2); }, {normal({3, 5, 2})});
  check_gradients([](auto& in) { return slice(in[0], -1, -3, 100, 1); }, {normal({3, 5})});
  check_error([&] { slice(x, 0, 0, 5, 0); }, "slice: step must be positive, got 0 for [5]");
}

BOOST_AUTO_TEST_CASE(concat_and_stack_values) {
  Tensor a = from_vector({1, 2, 3, 4}, {2, 2}), b = from_vector({5, 6}, {1, 2});
  Tensor c = from_vector({7, 8, 9, 10, 11, 12}, {2, 3});
  Tensor r = concat({a, b}, 0);
  BOOST_CHECK(r.shape() == (Shape{3, 2}));
  check_values(r, {1, 2, 3, 4, 5, 6});
  Tensor q = concat({a, c, a}, -1);
  BOOST_CHECK(q.shape() == (Shape{2, 7}));
  check_values(q, {1, 2, 7, 8, 9, 1, 2, 3, 4, 10, 11, 12, 3, 4});
  check_values(concat({a, zeros({0, 2})}, 0), {1, 2, 3, 4});
  Tensor s = stack({a, a * 10.0f}, 0);
  BOOST_CHECK(s.shape() == (Shape{2, 2, 2}));
  check_values(s, {1, 2, 3, 4, 10, 20, 30, 40});
  Tensor t = stack({a, a * 10.0f, a * 100.0f}, -1);
  BOOST_CHECK(t.shape() == (Shape{2, 2, 3}));
  check_values(t, {1, 10, 100, 2, 20, 200, 3, 30, 300, 4, 40, 400});
}

BOOST_AUTO_TEST_CASE(concat_and_stack_gradients) {
  manual_seed(7);
  check_gradients([](auto& in) { return concat({in[0], in[1], in[2]}, 1); },
                  {normal({2, 3, 2}), normal({2, 1, 2}), normal({2, 4, 2})});
  check_gradients([](auto& in) { return concat({in[0], in[1]}, 0); },
                  {normal({1, 3}), normal({2, 3})});
  check_gradients([](auto& in) { return stack({in[0], in[1]}, 1); },
                  {normal({2, 3}), normal({2, 3})});
  // Only the inputs that require grad receive one.
  Tensor a = normal({2, 2}).set_requires_grad(true), b = normal({2, 2});
  sum(concat({b, a}, 1) * from_vector({1, 2, 3, 4, 5, 6, 7, 8}, {2, 4})).backward();
  check_values(a.grad(), {3, 4, 7, 8});
  BOOST_CHECK(!b.grad().defined());
}

BOOST_AUTO_TEST_CASE(concat_and_stack_errors) {
  check_error([] { concat({zeros({2, 3}), zeros({2, 4})}, 0); },
              "concat: [2,3] and [2,4] differ outside dim 0");
  check_error([] { concat({zeros({2, 3}), zeros({3})}, 0); },
              "concat: [2,3] and [3] differ in number of dims");
  check_error([] { concat({}, 0); }, "concat: no tensors");
  check_error([] { concat({zeros({2})}, 1); }, "concat: dim 1 out of range for a 1-d tensor");
  check_error([] { stack({zeros({2, 3}), zeros({2, 4})}, 0); }, "stack: [2,3] and [2,4] differ");
  check_error([] { stack({}, 0); }, "stack: no tensors");
}

BOOST_AUTO_TEST_CASE(split_and_chunk) {
  Tensor x = arange_shaped({2, 5});
  std::vector<Tensor> p = split(x, {2, 0, 3}, 1);
  BOOST_REQUIRE_EQUAL(p.size(), 3u);
  check_values(p[0], {0, 1, 5, 6});
  BOOST_CHECK(p[1].shape() == (Shape{2, 0}));
  check_values(p[2], {2, 3, 4, 7, 8, 9});
  // torch.chunk's sizes: ceil(n / chunks) each, possibly fewer pieces.
  auto sizes = [](int64_t n, int64_t chunks) {
    std::vector<int64_t> s;
    for (const Tensor& t : chunk(zeros({3, n}), chunks, 1)) s.push_back(t.shape()[1]);
    return s;
  };
  BOOST_CHECK(sizes(5, 4) == (std::vector<int64_t>{2, 2, 1}));
  BOOST_CHECK(sizes(6, 4) == (std::vector<int64_t>{2, 2, 2}));
  BOOST_CHECK(sizes(10, 3) == (std::vector<int64_t>{4, 4, 2}));
  BOOST_CHECK(sizes(3, 5) == (std::vector<int64_t>{1, 1, 1}));
  BOOST_CHECK(sizes(0, 2) == (std::vector<int64_t>{0, 0}));
  std::vector<Tensor> c = chunk(x, 2, 0);
  check_values(c[1], {5, 6, 7, 8, 9});
  manual_seed(8);
  // Pieces recombined with different weights, so each piece's gradient is checked.
  check_gradients([](auto& in) {
    std::vector<Tensor> s = split(in[0], {1, 3}, 1);
    return concat({s[1] * 2.0f, s[0]}, 1);
  }, {normal({2, 4, 3})});
  check_gradients([](auto& in) {
    std::vector<Tensor> s = chunk(in[0], 3, -1);
    return s[0] * s[1] + s[2];
  }, {normal({2, 6})});
  check_error([&] { split(x, {2, 2}, 1); },
              "split: sizes [2,2] sum to 4, not size 5 of dim 1 of [2,5]");
  check_error([&] { split(x, {6, -1}, 1); }, "split: negative size in [6,-1]");
  check_error([&] { chunk(x, 0, 1); }, "chunk: chunks must be positive, got 0");
}

BOOST_AUTO_TEST_CASE(pad_values) {
  Tensor x = arange_shaped({2, 3});
  // torch.nn.functional.pad(torch.arange(6.).view(2, 3), (-1, 2)) -> [[1,2,0,0],[4,5,0,0]]
  Tensor a = pad(x, {-1, 2});
  BOOST_CHECK(a.shape() == (Shape{2, 4}));
  check_values(a, {1, 2, 0, 0, 4, 5, 0, 0});
  Tensor b = pad(x, {1, 0, 0, 1}, -1);
  BOOST_CHECK(b.shape() == (Shape{3, 4}));
  check_values(b, {-1, 0, 1, 2, -1, 3, 4, 5, -1, -1, -1, -1});
  Tensor c = pad(x, {0, 0, -1, 0});
  check_values(c, {3, 4, 5});
  Tensor d = pad(x, {-3, 1});  // everything cropped, one padded column left
  BOOST_CHECK(d.shape() == (Shape{2, 1}));
  check_values(d, {0, 0});
  check_values(pad(x, {}), range(0, 6));
}

BOOST_AUTO_TEST_CASE(pad_gradients_and_errors) {
  manual_seed(9);
  check_gradients([](auto& in) { return pad(in[0], {2, -1}); }, {normal({2, 3, 4})});
  check_gradients([](auto& in) { return pad(in[0], {-1, 1, 1, 2, 0, 1}, 0.5f); },
                  {normal({2, 3, 4})});
  Tensor x = zeros({2, 3});
  check_error([&] { pad(x, {1}); },
              "pad: 1 pad values for [2,3]; need (left, right) pairs for at most 2 dims");
  check_error([&] { pad(x, {1, 1, 1, 1, 1, 1}); },
              "pad: 6 pad values for [2,3]; need (left, right) pairs for at most 2 dims");
  check_error([&] { pad(x, {-2, -2}); }, "pad: [2,3] padded by [-2,-2] gives size -1 in dim 1");
}

BOOST_AUTO_TEST_CASE(glu_values_gradients_errors) {
  Tensor x = from_vector({1, 2, 0, -1, 3, 4, 2, 0.5f}, {2, 4});
  auto sig = [](float v) { return 1.0f / (1.0f + std::exp(-v)); };
  check_values(glu(x), {1 * sig(0), 2 * sig(-1), 3 * sig(2), 4 * sig(0.5f)});
  check_values(glu(x, 0), {1 * sig(3), 2 * sig(4), 0 * sig(2), -1 * sig(0.5f)});
  manual_seed(10);
  check_gradients([](auto& in) { return glu(in[0], 1); }, {normal({2, 6, 3})});
  check_error([] { glu(zeros({2, 5})); }, "glu: size 5 of dim 1 of [2,5] is odd");
}
