// Indexing and mask ops: forward on hand values and naive loops, gradients (with repeated
// indices), broadcasting, error messages.
#include <boost/test/unit_test.hpp>

#include "common/gradcheck.h"

using namespace ag;
using testing::check_error;
using testing::check_gradients;
using testing::check_values;

namespace {

Tensor arange_shaped(const Shape& s) {
  std::vector<float> v(numel_of(s));
  for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<float>(i);
  return from_vector(v, s);
}

// Integers in [0, n) with repeats.
Tensor random_index(const Shape& s, int64_t n, std::mt19937& rng) {
  std::vector<int64_t> v(numel_of(s));
  for (int64_t& i : v) i = std::uniform_int_distribution<int64_t>(0, n - 1)(rng);
  return from_int_vector(v, s);
}

// x viewed as [outer, n, inner] around dim.
struct Around {
  int64_t outer = 1, n, inner = 1;
  Around(const Shape& s, int64_t dim) : n(s[dim]) {
    for (int64_t d = 0; d < static_cast<int64_t>(s.size()); ++d)
      if (d != dim) (d < dim ? outer : inner) *= s[d];
  }
};

}  // namespace

BOOST_AUTO_TEST_CASE(index_select_values) {
  Tensor x = arange_shaped({3, 4});
  Tensor rows = index_select(x, 0, from_int_vector({2, 0, 2}, {3}));
  BOOST_CHECK(rows.shape() == (Shape{3, 4}));
  check_values(rows, {8, 9, 10, 11, 0, 1, 2, 3, 8, 9, 10, 11});
  Tensor cols = index_select(x, -1, from_int_vector({3, 3, 1}, {3}));
  check_values(cols, {3, 3, 1, 7, 7, 5, 11, 11, 9});
  BOOST_CHECK(index_select(x, 1, from_int_vector({}, {0})).shape() == (Shape{3, 0}));
  // Against a naive loop on a middle dim.
  manual_seed(11);
  std::mt19937 rng(11);
  Tensor y = normal({3, 5, 4});
  Tensor idx = random_index({7}, 5, rng);
  Tensor out = index_select(y, 1, idx);
  std::vector<int64_t> iv = idx.to_int_vector();
  for (int64_t a = 0; a < 3; ++a)
    for (int64_t j = 0; j < 7; ++j)
      for (int64_t c = 0; c < 4; ++c) BOOST_CHECK_EQUAL(out.at({a, j, c}), y.at({a, iv[j], c}));
}

BOOST_AUTO_TEST_CASE(index_select_gradients_with_repeated_indices) {
  manual_seed(12);
  Tensor rep = from_int_vector({2, 0, 2, 2, 1}, {5});
  check_gradients([&](auto& in) { return index_select(in[0], 0, rep); }, {normal({3, 4})});
  check_gradients([&](auto& in) { return index_select(in[0], 1, rep); }, {normal({2, 3, 2})});
  check_gradients([&](auto& in) { return index_select(in[0], 2, rep); }, {normal({2, 2, 3})});
  // Hand-computed: row 2 selected three times gets three times the gradient.
  Tensor x = zeros({3, 2}).set_requires_grad(true);
  sum(index_select(x, 0, rep)).backward();
  check_values(x.grad(), {1, 1, 1, 1, 3, 3});
}

BOOST_AUTO_TEST_CASE(index_add_on_threads_matches_naive_accumulation) {
  // One row of many columns: the backward splits columns across threads.
  std::mt19937 rng(13);
  manual_seed(13);
  const int64_t n = 6, m = 50, inner = 4096;
  Tensor x = normal({n, inner}).set_requires_grad(true);
  Tensor idx = random_index({m}, n, rng);
  Tensor g = normal({m, inner});
  index_select(x, 0, idx).backward(g);
  std::vector<float> expect(n * inner, 0.0f), gv = g.to_vector();
  std::vector<int64_t> iv = idx.to_int_vector();
  for (int64_t j = 0; j < m; ++j)
    for (int64_t i = 0; i < inner; ++i) expect[iv[j] * inner + i] += gv[j * inner + i];
  BOOST_CHECK_LE(testing::max_abs_diff(x.grad(), from_vector(expect, {n, inner})), 1e-5f);
}

BOOST_AUTO_TEST_CASE(index_select_errors) {
  Tensor x = zeros({5, 2});
  check_error([&] { index_select(x, 0, from_int_vector({1, 7}, {2})); },
              "index_select: index 7 out of range for dim 0 of size 5");
  check_error([&] { index_select(x, 1, from_int_vector({-1}, {1})); },
              "index_select: index -1 out of range for dim 1 of size 2");
  check_error([&] { index_select(x, 0, from_vector({1}, {1})); },
              "index_select: index must be int64, got float32 tensor of shape [1]");
  check_error([&] { index_select(x, 0, from_int_vector({1, 2}, {1, 2})); },
              "index_select: index must be 1-D, got shape [1,2]");
  check_error([&] { index_select(x, 2, from_int_vector({0}, {1})); },
              "index_select: dim 2 out of range for a 2-d tensor");
}

BOOST_AUTO_TEST_CASE(gather_values) {
  // torch.gather(torch.tensor([[1, 2], [3, 4]]), 1, torch.tensor([[0, 0], [1, 0]]))
  Tensor t = from_vector({1, 2, 3, 4}, {2, 2});
  check_values(gather(t, 1, from_int_vector({0, 0, 1, 0}, {2, 2})), {1, 1, 4, 3});
  check_values(gather(t, 0, from_int_vector({1, 0, 1, 1}, {2, 2})), {3, 2, 3, 4});
  // Against a naive loop, for every dim, with an index smaller than x outside dim.
  std::mt19937 rng(14);
  manual_seed(14);
  Tensor x = normal({3, 4, 5});
  for (int64_t dim = 0; dim < 3; ++dim) {
    Shape is{2, 3, 4};
    is[dim] = 6;
    Tensor idx = random_index(is, x.shape()[dim], rng);
    Tensor out = gather(x, dim, idx);
    BOOST_REQUIRE(out.shape() == is);
    std::vector<int64_t> iv = idx.to_int_vector();
    for (int64_t a = 0; a < is[0]; ++a)
      for (int64_t b = 0; b < is[1]; ++b)
        for (int64_t c = 0; c < is[2]; ++c) {
          int64_t k = iv[(a * is[1] + b) * is[2] + c];
          float ref = dim == 0 ? x.at({k, b, c}) : dim == 1 ? x.at({a, k, c}) : x.at({a, b, k});
          BOOST_CHECK_EQUAL(out.at({a, b, c}), ref);
        }
  }
}

BOOST_AUTO_TEST_CASE(gather_gradients_with_repeated_indices) {
  std::mt19937 rng(15);
  manual_seed(15);
  for (int64_t dim = 0; dim < 3; ++dim) {
    Shape xs{3, 4, 2}, is{3, 4, 2};
    is[dim] = 5;  // more picks than positions: repeats are certain
    Tensor idx = random_index(is, xs[dim], rng);
    check_gradients([&](auto& in) { return gather(in[0], dim, idx); }, {normal(xs)});
  }
  // Index smaller than x outside dim: the rest of x gets zero gradient.
  Tensor idx = from_int_vector({1, 1, 0, 1}, {2, 2});
  check_gradients([&](auto& in) { return gather(in[0], 1, idx); }, {normal({3, 4})});
  Tensor x = zeros({3, 4}).set_requires_grad(true);
  sum(gather(x, 1, idx)).backward();
  check_values(x.grad(), {0, 2, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0});
  // A large gather whose backward splits columns over threads.
  Tensor big = normal({4, 8192}).set_requires_grad(true);
  Tensor bidx = random_index({9, 8192}, 4, rng);
  Tensor g = normal({9, 8192});
  gather(big, 0, bidx).backward(g);
  std::vector<float> expect(4 * 8192, 0.0f), gv = g.to_vector();
  std::vector<int64_t> iv = bidx.to_int_vector();
  for (int64_t j = 0; j < 9; ++j)
    for (int64_t i = 0; i < 8192; ++i) expect[iv[j * 8192 + i] * 8192 + i] += gv[j * 8192 + i];
  BOOST_CHECK_LE(testing::max_abs_diff(big.grad(), from_vector(expect, {4, 8192})), 1e-5f);
}

BOOST_AUTO_TEST_CASE(gather_errors) {
  Tensor x = zeros({2, 3});
  check_error([&] { gather(x, 1, from_int_vector({0, 3}, {2, 1})); },
              "gather: index 3 out of range for dim 1 of size 3");
  check_error([&] { gather(x, 1, from_int_vector({0, 1}, {2})); },
              "gather: index [2] and input [2,3] differ in number of dims");
  check_error([&] { gather(x, 1, from_int_vector({0, 0, 0}, {3, 1})); },
              "gather: index [3,1] is larger than input [2,3] in dim 0");
  check_error([&] { gather(x, 0, from_mask({true, false}, {2, 1})); },
              "gather: index must be int64, got bool tensor of shape [2,1]");
}

BOOST_AUTO_TEST_CASE(masked_fill_values_and_broadcasting) {
  Tensor x = arange_shaped({2, 3});
  check_values(masked_fill(x, from_mask({true, false, true, false, false, true}, {2, 3}), -1),
               {-1, 1, -1, 3, 4, -1});
  check_values(masked_fill(x, from_mask({false, true, false}, {3}), 9), {0, 9, 2, 3, 9, 5});
  check_values(masked_fill(x, from_mask({true, false}, {2, 1}), 7), {7, 7, 7, 3, 4, 5});
  check_values(masked_fill(x, from_mask({true}, {}), 0), {0, 0, 0, 0, 0, 0});
  // Attention-style: a [B, 1, 1, T] padding mask over [B, H, T, T] scores.
  Tensor scores = zeros({2, 2, 3, 3});
  Tensor pad = logical_not(lengths_to_mask({3, 1}, 3));
  Tensor filled = masked_fill(scores, reshape(pad, {2, 1, 1, 3}), -1e9f);
  for (int64_t b = 0; b < 2; ++b)
    for (int64_t h = 0; h < 2; ++h)
      for (int64_t q = 0; q < 3; ++q)
        for (int64_t k = 0; k < 3; ++k)
          BOOST_CHECK_EQUAL(filled.at({b, h, q, k}), (b == 1 && k >= 1) ? -1e9f : 0.0f);
}

BOOST_AUTO_TEST_CASE(masked_fill_gradients) {
  manual_seed(16);
  Tensor m = from_mask({true, false, false, true, false, true}, {2, 1, 3});
  check_gradients([&](auto& in) { return masked_fill(in[0], m, 5); }, {normal({2, 4, 3})});
  Tensor x = normal({2, 3}).set_requires_grad(true);
  sum(masked_fill(x, from_mask({false, true, false}, {3}), 2)).backward();
  check_values(x.grad(), {1, 0, 1, 1, 0, 1});
}

BOOST_AUTO_TEST_CASE(masked_fill_errors) {
  Tensor x = zeros({3});
  check_error([&] { masked_fill(x, zeros({3}), 1); },
              "masked_fill: mask must be bool (uint8), got float32 tensor of shape [3]");
  Tensor wide = from_mask({true, false, true, false, true, false}, {2, 3});
  check_error([&] { masked_fill(x, wide, 1); },
              "masked_fill: mask [2,3] cannot be broadcast to [3]");
  check_error([&] { masked_fill(x, from_mask({true, false}, {2}), 1); },
              "masked_fill: shapes [3] and [2] cannot be broadcast together");
  check_error([] { masked_fill(arange(3, DType::i64), from_mask({true}, {1}), 1); },
              "masked_fill: expects float32, got int64");
}

BOOST_AUTO_TEST_CASE(where_values_and_broadcasting) {
  Tensor c = from_mask({true, false, false, true}, {2, 2});
  Tensor a = from_vector({1, 2, 3, 4}, {2, 2}), b = from_vector({-1, -2, -3, -4}, {2, 2});
  check_values(where(c, a, b), {1, -2, -3, 4});
  // cond [2,1], a [3], b scalar -> [2,3]
  Tensor w = where(from_mask({true, false}, {2, 1}), from_vector({1, 2, 3}, {3}), full({}, 9.0f));
  BOOST_CHECK(w.shape() == (Shape{2, 3}));
  check_values(w, {1, 2, 3, 9, 9, 9});
  // cond [3], a [2,1], b [1,3]
  Tensor v = where(from_mask({false, true, false}, {3}), from_vector({10, 20}, {2, 1}),
                   from_vector({1, 2, 3}, {1, 3}));
  check_values(v, {1, 10, 3, 1, 20, 3});
}

BOOST_AUTO_TEST_CASE(where_gradients) {
  manual_seed(17);
  Tensor c = from_mask({true, false, true, true, false, false}, {2, 3});
  check_gradients([&](auto& in) { return where(c, in[0], in[1]); },
                  {normal({2, 3}), normal({2, 3})});
  // Gradients summed back to the broadcast operands' shapes.
  check_gradients([&](auto& in) { return where(c, in[0], in[1]); },
                  {normal({3}), normal({2, 1})});
  Tensor cc = from_mask({true, false}, {2, 1, 1});
  check_gradients([&](auto& in) { return where(cc, in[0], in[1]); },
                  {normal({1, 3}), normal({2, 2, 1})});
  Tensor a = zeros({3}).set_requires_grad(true), b = zeros({2, 1}).set_requires_grad(true);
  sum(where(c, a, b)).backward();
  check_values(a.grad(), {2, 0, 1});  // column-wise count of true
  check_values(b.grad(), {1, 2});     // row-wise count of false
}

BOOST_AUTO_TEST_CASE(where_errors) {
  Tensor a = zeros({2, 3});
  check_error([&] { where(zeros({2, 3}), a, a); },
              "where: cond must be bool (uint8), got float32 tensor of shape [2,3]");
  check_error([&] { where(from_mask({true, false}, {2}), a, a); },
              "where: shapes [2] and [2,3] cannot be broadcast together");
  check_error([&] { where(from_mask({true}, {1}), a, zeros({4})); },
              "where: shapes [2,3] and [4] cannot be broadcast together");
  check_error([&] { where(from_mask({true}, {1}), a, arange(3, DType::i64)); },
              "where: expects float32, got int64");
}

BOOST_AUTO_TEST_CASE(mask_helpers) {
  Tensor m = lengths_to_mask({2, 0, 4}, 4);
  BOOST_CHECK(m.shape() == (Shape{3, 4}));
  BOOST_CHECK(m.dtype() == DType::u8);
  check_values(m, {1, 1, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1});
  Tensor n = logical_not(m);
  BOOST_CHECK(n.dtype() == DType::u8);
  check_values(n, {0, 0, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0});
  BOOST_CHECK(lengths_to_mask({}, 5).shape() == (Shape{0, 5}));
  check_error([] { lengths_to_mask({2, 7}, 5); },
              "lengths_to_mask: length 7 of item 1 is outside [0, 5]");
  check_error([] { lengths_to_mask({-1}, 5); },
              "lengths_to_mask: length -1 of item 0 is outside [0, 5]");
  check_error([] { lengths_to_mask({1}, -1); }, "lengths_to_mask: negative max_len -1");
  check_error([] { logical_not(zeros({2})); },
              "logical_not: expects a bool (uint8) mask, got float32 tensor of shape [2]");
}
