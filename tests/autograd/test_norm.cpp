// layer_norm and batch_norm: forward against naive reference loops, running statistics
// against hand computation, fused gradients in every mode, errors.
#include <boost/test/unit_test.hpp>
#include <cmath>

#include "common/gradcheck.h"

using namespace ag;
using testing::check_error;
using testing::check_gradients;
using testing::check_values;

namespace {

// layer_norm over the last dim in double; w, b may be empty (no affine).
std::vector<float> layer_norm_ref(const Tensor& x, const std::vector<float>& w,
                                  const std::vector<float>& b, float eps) {
  std::vector<float> v = x.to_vector(), out(v.size());
  const int64_t D = x.shape().back();
  for (size_t r = 0; r < v.size() / D; ++r) {
    double mean = 0, var = 0;
    for (int64_t k = 0; k < D; ++k) mean += v[r * D + k];
    mean /= D;
    for (int64_t k = 0; k < D; ++k) var += (v[r * D + k] - mean) * (v[r * D + k] - mean);
    var /= D;
    for (int64_t k = 0; k < D; ++k) {
      double y = (v[r * D + k] - mean) / std::sqrt(var + eps);
      out[r * D + k] = static_cast<float>(y * (w.empty() ? 1 : w[k]) + (b.empty() ? 0 : b[k]));
    }
  }
  return out;
}

// Per-channel statistics of x [N, C] or [N, C, L]: mean and biased variance.
struct ChannelStats {
  std::vector<double> mean, var;
};
ChannelStats channel_stats(const Tensor& x) {
  std::vector<float> v = x.to_vector();
  const int64_t N = x.shape()[0], C = x.shape()[1], L = x.dim() == 3 ? x.shape()[2] : 1;
  ChannelStats s{std::vector<double>(C, 0), std::vector<double>(C, 0)};
  for (int64_t c = 0; c < C; ++c) {
    for (int64_t n = 0; n < N; ++n)
      for (int64_t l = 0; l < L; ++l) s.mean[c] += v[(n * C + c) * L + l];
    s.mean[c] /= N * L;
    for (int64_t n = 0; n < N; ++n)
      for (int64_t l = 0; l < L; ++l) {
        double d = v[(n * C + c) * L + l] - s.mean[c];
        s.var[c] += d * d;
      }
    s.var[c] /= N * L;
  }
  return s;
}

// (x - mean[c]) / sqrt(var[c] + eps) * w[c] + b[c] in double.
std::vector<float> batch_norm_ref(const Tensor& x, const std::vector<double>& mean,
                                  const std::vector<double>& var, const std::vector<float>& w,
                                  const std::vector<float>& b, float eps) {
  std::vector<float> v = x.to_vector(), out(v.size());
  const int64_t C = x.shape()[1], L = x.dim() == 3 ? x.shape()[2] : 1;
  for (size_t i = 0; i < v.size(); ++i) {
    const int64_t c = (i / L) % C;
    out[i] = static_cast<float>((v[i] - mean[c]) / std::sqrt(var[c] + eps) * w[c] + b[c]);
  }
  return out;
}

// Gradients of `fused` and `composite` (built from basic ops) for the same inputs and
// output weights; large enough that the fused kernels split over threads.
void check_same_gradients(const testing::Fn& fused, const testing::Fn& composite,
                          const std::vector<Tensor>& inputs, float tol) {
  Tensor gy;
  std::vector<std::vector<float>> grads;
  for (const testing::Fn& f : {fused, composite}) {
    std::vector<Tensor> in;
    for (const Tensor& t : inputs) in.push_back(clone_data(t).set_requires_grad(true));
    Tensor y = f(in);
    if (!gy.defined()) gy = normal(y.shape());
    y.backward(gy);
    for (const Tensor& t : in) grads.push_back(t.grad().to_vector());
  }
  for (size_t k = 0; k < inputs.size(); ++k)
    check_values(from_vector(grads[k], {(int64_t)grads[k].size()}), grads[k + inputs.size()],
                 tol);
}

}  // namespace

// ---- layer_norm ----

BOOST_AUTO_TEST_CASE(layer_norm_hand_values) {
  // Row [1, 2, 3]: mean 2, biased var 2/3, so y = (x - 2) / sqrt(2/3 + eps).
  const float r = 1.0f / std::sqrt(2.0f / 3.0f + 1e-5f);
  Tensor x = from_vector({1, 2, 3, 5, 5, 5}, {2, 3});
  check_values(layer_norm(x, Tensor(), Tensor()), {-r, 0, r, 0, 0, 0});
  check_values(layer_norm(x, from_vector({1, 2, 3}, {3}), from_vector({0, 1, 0}, {3})),
               {-r, 1, 3 * r, 0, 1, 0});
}

BOOST_AUTO_TEST_CASE(layer_norm_matches_reference) {
  manual_seed(11);
  for (Shape s : {Shape{2, 3, 5}, Shape{4, 37}, Shape{300}}) {
    const int64_t D = s.back();
    Tensor x = add(mul(normal(s), 2.0f), 0.5f);
    Tensor w = normal({D}), b = normal({D});
    check_values(layer_norm(x, w, b), layer_norm_ref(x, w.to_vector(), b.to_vector(), 1e-5f),
                 1e-4f);
    check_values(layer_norm(x, w, Tensor(), 0.1f), layer_norm_ref(x, w.to_vector(), {}, 0.1f),
                 1e-4f);
    check_values(layer_norm(x, Tensor(), Tensor()), layer_norm_ref(x, {}, {}, 1e-5f), 1e-4f);
  }
  // Bias only: the weight counts as ones.
  Tensor x = normal({3, 4}), b = normal({4});
  check_values(layer_norm(x, Tensor(), b), layer_norm_ref(x, {1, 1, 1, 1}, b.to_vector(), 1e-5f),
               1e-4f);
}

BOOST_AUTO_TEST_CASE(layer_norm_large_mean_small_spread) {
  // Two-pass statistics: a mean of 1e4 does not swamp a spread of 1e-1.
  Tensor x = add(mul(from_vector({-1, 0, 1, 0}, {1, 4}), 0.1f), 1e4f);
  const float r = 1.0f / std::sqrt(0.005f + 1e-5f) * 0.1f;
  check_values(layer_norm(x, Tensor(), Tensor()), {-r, 0, r, 0}, 1e-3f);
}

BOOST_AUTO_TEST_CASE(layer_norm_gradients) {
  manual_seed(12);
  check_gradients([](auto& in) { return layer_norm(in[0], in[1], in[2]); },
                  {normal({3, 4, 5}), normal({5}), normal({5})});
  check_gradients([](auto& in) { return layer_norm(in[0], in[1], in[2]); },
                  {normal({4, 37}), normal({37}), normal({37})});
  check_gradients([](auto& in) { return layer_norm(in[0], Tensor(), Tensor()); },
                  {normal({3, 6})});
  check_gradients([](auto& in) { return layer_norm(in[0], Tensor(), in[1]); },
                  {normal({3, 6}), normal({6})});
  // Parameters alone (x constant), and x alone (parameters constant).
  Tensor x = normal({5, 6}), w = normal({6}).set_requires_grad(true);
  Tensor b = normal({6}).set_requires_grad(true);
  check_gradients([](auto& in) { return layer_norm(in[0], in[1], in[2]); }, {x, w, b});
  Tensor x2 = normal({5, 6}).set_requires_grad(true);
  check_gradients([](auto& in) { return layer_norm(in[0], in[1], in[2]); },
                  {x2, normal({6}), normal({6})});
}

BOOST_AUTO_TEST_CASE(layer_norm_large_gradients_match_composite) {
  manual_seed(17);
  auto fused = [](auto& in) { return layer_norm(in[0], in[1], in[2]); };
  auto composite = [](auto& in) {
    Tensor centered = sub(in[0], mean(in[0], {-1}, true));
    Tensor rstd = rsqrt(add(var(in[0], {-1}, false, true), 1e-5f));
    return add(mul(mul(centered, rstd), in[1]), in[2]);
  };
  check_same_gradients(fused, composite, {normal({64, 600}), normal({600}), normal({600})},
                       1e-3f);
}

BOOST_AUTO_TEST_CASE(layer_norm_errors) {
  Tensor x = zeros({2, 4});
  check_error([&] { layer_norm(x, zeros({3}), Tensor()); },
              "layer_norm: weight [3] for input [2,4] (expected [4])");
  check_error([&] { layer_norm(x, Tensor(), zeros({4, 1})); },
              "layer_norm: bias [4,1] for input [2,4] (expected [4])");
  check_error([] { layer_norm(full({}, 1.0f), Tensor(), Tensor()); },
              "layer_norm: input [] has no dim to normalize");
  check_error([] { layer_norm(arange(4, DType::i64), Tensor(), Tensor()); },
              "layer_norm: expects float32, got int64");
}

// ---- batch_norm ----

BOOST_AUTO_TEST_CASE(batch_norm_training_running_stats_by_hand) {
  // Channel 0 holds 1, 2, 3, 6: mean 3, biased var 3.5, unbiased var 14/3.
  // Channel 1 holds 0, 0, 4, 4: mean 2, biased var 4, unbiased var 16/3.
  Tensor x = from_vector({1, 0, 2, 0, 3, 4, 6, 4}, {4, 2});
  Tensor rm = from_vector({1, -1}, {2}), rv = from_vector({2, 0.5f}, {2});
  Tensor y = batch_norm(x, Tensor(), Tensor(), rm, rv, true, 0.25f, 0.0f);
  const float a = 1 / std::sqrt(3.5f);
  check_values(y, {-2 * a, -1, -a, -1, 0, 1, 3 * a, 1});
  check_values(rm, {0.75f * 1 + 0.25f * 3, 0.75f * -1 + 0.25f * 2});
  check_values(rv, {0.75f * 2 + 0.25f * 14 / 3.0f, 0.75f * 0.5f + 0.25f * 16 / 3.0f});
  // A second step compounds on the updated buffers.
  batch_norm(x, Tensor(), Tensor(), rm, rv, true, 0.25f, 0.0f);
  check_values(rm, {0.75f * 1.5f + 0.25f * 3, 0.75f * -0.25f + 0.25f * 2});
  // Without buffers training still normalizes with batch statistics.
  check_values(batch_norm(x, Tensor(), Tensor(), Tensor(), Tensor(), true, 0.25f, 0.0f),
               y.to_vector());
}

BOOST_AUTO_TEST_CASE(batch_norm_training_matches_reference) {
  manual_seed(13);
  for (Shape s : {Shape{6, 3}, Shape{4, 3, 5}, Shape{2, 4, 33}}) {
    const int64_t C = s[1];
    Tensor x = add(mul(normal(s), 3.0f), 1.0f);
    Tensor w = normal({C}), b = normal({C});
    Tensor rm = normal({C}), rv = uniform({C}, 0.5f, 2);
    std::vector<float> rm0 = rm.to_vector(), rv0 = rv.to_vector();
    ChannelStats st = channel_stats(x);
    check_values(batch_norm(x, w, b, rm, rv, true, 0.1f, 1e-5f),
                 batch_norm_ref(x, st.mean, st.var, w.to_vector(), b.to_vector(), 1e-5f), 1e-4f);
    const double M = static_cast<double>(x.numel() / C);
    std::vector<float> em, ev;
    for (int64_t c = 0; c < C; ++c) {
      em.push_back(static_cast<float>(0.9 * rm0[c] + 0.1 * st.mean[c]));
      ev.push_back(static_cast<float>(0.9 * rv0[c] + 0.1 * st.var[c] * M / (M - 1)));
    }
    check_values(rm, em, 1e-5f);
    check_values(rv, ev, 1e-5f);
  }
}

BOOST_AUTO_TEST_CASE(batch_norm_eval_uses_running_stats) {
  manual_seed(14);
  Tensor x = normal({3, 2, 4}), w = normal({2}), b = normal({2});
  Tensor rm = from_vector({0.5f, -1}, {2}), rv = from_vector({4, 0.25f}, {2});
  check_values(batch_norm(x, w, b, rm, rv, false, 0.1f, 1e-3f),
               batch_norm_ref(x, {0.5, -1}, {4, 0.25}, w.to_vector(), b.to_vector(), 1e-3f),
               1e-5f);
  check_values(rm, {0.5f, -1});  // eval leaves the buffers alone
  check_values(rv, {4, 0.25f});
  check_values(batch_norm(x, Tensor(), Tensor(), rm, rv, false, 0.1f, 1e-3f),
               batch_norm_ref(x, {0.5, -1}, {4, 0.25}, {1, 1}, {0, 0}, 1e-3f), 1e-5f);
}

BOOST_AUTO_TEST_CASE(batch_norm_gradients_both_modes) {
  manual_seed(15);
  for (bool training : {true, false}) {
    for (Shape s : {Shape{5, 3}, Shape{3, 2, 4}}) {
      const int64_t C = s[1];
      Tensor rm = normal({C}), rv = uniform({C}, 0.5f, 2);
      auto affine = [&](auto& in) { return batch_norm(in[0], in[1], in[2], rm, rv, training); };
      check_gradients(affine, {normal(s), normal({C}), normal({C})});
      auto plain = [&](auto& in) {
        return batch_norm(in[0], Tensor(), Tensor(), rm, rv, training);
      };
      check_gradients(plain, {normal(s)});
    }
  }
  // The buffers never receive gradients.
  Tensor rm = zeros({2}), rv = ones({2});
  Tensor x = normal({4, 2}).set_requires_grad(true);
  sum(mul(batch_norm(x, Tensor(), Tensor(), rm, rv, true), normal({4, 2}))).backward();
  BOOST_CHECK(!rm.grad().defined() && !rv.grad().defined());
}

BOOST_AUTO_TEST_CASE(batch_norm_large_gradients_match_composite) {
  manual_seed(18);
  auto fused = [](auto& in) {
    return batch_norm(in[0], in[1], in[2], Tensor(), Tensor(), true);
  };
  auto composite = [](auto& in) {
    Tensor centered = sub(in[0], mean(in[0], {0, 2}, true));
    Tensor invstd = rsqrt(add(var(in[0], {0, 2}, false, true), 1e-5f));
    return add(mul(mul(centered, invstd), reshape(in[1], {8, 1})), reshape(in[2], {8, 1}));
  };
  check_same_gradients(fused, composite, {normal({16, 8, 300}), normal({8}), normal({8})},
                       1e-3f);
}

BOOST_AUTO_TEST_CASE(batch_norm_training_gradient_sums_to_zero) {
  // Batch statistics make gx orthogonal to constants per channel: sum_n gx[n, c] == 0.
  manual_seed(16);
  Tensor x = normal({8, 3}).set_requires_grad(true);
  sum(mul(batch_norm(x, normal({3}), Tensor(), Tensor(), Tensor(), true), normal({8, 3})))
      .backward();
  for (float v : sum(x.grad(), {0}).to_vector()) BOOST_CHECK_SMALL(v, 1e-5f);
}

BOOST_AUTO_TEST_CASE(batch_norm_errors) {
  Tensor rm = zeros({3}), rv = ones({3});
  check_error([&] { batch_norm(zeros({3}), Tensor(), Tensor(), rm, rv, true); },
              "batch_norm: input [3] is not [N, C] or [N, C, L]");
  check_error([&] { batch_norm(zeros({2, 3}), zeros({2}), Tensor(), rm, rv, true); },
              "batch_norm: weight [2] for input [2,3] (expected [3])");
  check_error([&] { batch_norm(zeros({2, 3, 4}), Tensor(), Tensor(), zeros({4}), rv, true); },
              "batch_norm: running_mean [4] for input [2,3,4] (expected [3])");
  check_error([&] { batch_norm(zeros({2, 3}), Tensor(), Tensor(), Tensor(), Tensor(), false); },
              "batch_norm: input [2,3]: eval mode needs running_mean and running_var");
  check_error([&] { batch_norm(zeros({1, 3}), Tensor(), Tensor(), rm, rv, true); },
              "batch_norm: input [1,3] has one value per channel; training needs more");
  check_error([&] { batch_norm(zeros({2, 3}, DType::i64), Tensor(), Tensor(), rm, rv, true); },
              "batch_norm: expects float32, got int64");
}
