// Finite-difference gradient checks for tests.
//
//   check_gradients([](const std::vector<Tensor>& in) { return ag::tanh(in[0]); },
//                   {ag::normal({3, 4})});
//
// The scalar checked is L = sum(f(inputs) * w) for fixed random weights w, accumulated in
// double. Each checked input element is moved by +-eps (float32) and the central difference
// num compared with the analytic gradient ana. The tolerance is relative, never an absolute
// floor that would pass any gradient below it:
//   |num - ana| <= rtol * max(|num|, |ana|) + scale_rtol * scale + noise
// scale: the input's largest |analytic gradient|; noise: how far float32 rounding of the
// outputs the move changed can shift num (16 unit roundoffs of each changed f*w, independent
// signs, over 2 eps). The check's resolution is that noise were every output to change. An
// input whose largest gradient is 10x above it is checked element by element; a smaller one
// along directions over all its elements (check_gradients below), and if even the sum of its
// gradient's magnitudes is not 10x above the resolution it cannot be checked at these values
// and fails (change the values), unless the caller lists it in `zero_gradient` (0 by
// construction, e.g. a bias before a normalisation: then both gradients must stay below
// the resolution) or names, in `unresolved_covered_by`, the layer-level test that checks it.
// Inputs with more than `max_checked` elements are checked at a random sample of positions.
#pragma once
#include <boost/test/unit_test.hpp>
#include <algorithm>
#include <cmath>
#include <functional>
#include <string>
#include <random>
#include <sstream>
#include <tuple>
#include <utility>

#include "autograd/ops.h"

namespace testing {

struct GradCheck {
  float eps = 1e-3f;
  float rtol = 1e-2f;
  float scale_rtol = 1e-3f;
  int max_checked = 300;
  std::vector<size_t> zero_gradient;  // inputs whose gradient is 0 by construction
  // Whole-model checks: where a parameter's gradient is below the resolution at the model's
  // level, the test that checks it at its layer's (named here) instead of failing; listed in
  // the log. Empty: such an input fails.
  std::string unresolved_covered_by;
};

// What float32 rounding of the outputs can move the central difference by: 16 unit
// roundoffs of each |f w| (both evaluations), independent signs, over 2 eps. `down` null:
// the resolution, every output of `up` counted as changed.
inline double rounding_noise(const std::vector<float>& up, const std::vector<float>* down,
                             const std::vector<float>& w, float eps) {
  double moved = 0;
  for (size_t j = 0; j < up.size(); ++j) {
    if (down && up[j] == (*down)[j]) continue;
    const double m = (std::fabs(up[j]) + std::fabs(down ? (*down)[j] : up[j])) * std::fabs(w[j]);
    moved += m * m;
  }
  return 16.0 * std::ldexp(1.0, -24) * std::sqrt(moved) / (2.0 * eps);
}

using Fn = std::function<ag::Tensor(const std::vector<ag::Tensor>&)>;

inline double dot(const std::vector<float>& v, const std::vector<float>& w) {
  double s = 0;
  for (size_t i = 0; i < v.size(); ++i) s += static_cast<double>(v[i]) * w[i];
  return s;
}

// The central difference of L along v (v[i] for element i of x; a unit vector checks one
// element) and the rounding noise it carries.
struct Difference {
  double num, noise;
};
using Direction = std::vector<std::pair<int64_t, float>>;  // (element, component)

inline Difference central_difference(const Fn& f, const std::vector<ag::Tensor>& inputs,
                                     const ag::Tensor& x, const Direction& v,
                                     const std::vector<float>& w, float eps) {
  float* p = x.data();
  std::vector<float> orig;
  for (const auto& [i, d] : v) orig.push_back(p[i]);
  auto at = [&](float sign) {
    for (size_t j = 0; j < v.size(); ++j) p[v[j].first] = orig[j] + sign * eps * v[j].second;
    std::vector<float> out = f(inputs).to_vector();
    for (size_t j = 0; j < v.size(); ++j) p[v[j].first] = orig[j];
    return out;
  };
  const std::vector<float> up = at(1.0f), down = at(-1.0f);
  return {(dot(up, w) - dot(down, w)) / (2.0 * eps), rounding_noise(up, &down, w, eps)};
}

// Checks every float32 input that requires grad (inputs are marked if none is). An input
// whose largest gradient is above 10x the resolution is checked element by element; a
// smaller one along two directions over all its elements, where its many small elements add
// up: the signs of its analytic gradient (whose derivative, the sum of |gradient|, must then
// be 10x above the resolution) and random signs.
inline void check_gradients(const Fn& f, std::vector<ag::Tensor> inputs,
                            GradCheck opt = GradCheck()) {
  bool any = false;
  for (auto& t : inputs) any |= t.requires_grad();
  if (!any)
    for (auto& t : inputs)
      if (t.dtype() == ag::DType::f32) t.set_requires_grad(true);

  ag::Tensor y = f(inputs);
  const std::vector<float> y_values = y.to_vector();
  std::mt19937 rng(1234);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  std::vector<float> w(y.numel());
  for (float& v : w) v = dist(rng);
  ag::sum(ag::mul(y, ag::from_vector(w, y.shape()))).backward();

  ag::NoGradGuard no_grad;
  const double resolution = rounding_noise(y_values, nullptr, w, opt.eps);
  // |num - ana| beyond the tolerance (> 0: a mismatch)
  auto excess = [&](double num, double ana, double scale, double noise) {
    return std::fabs(num - ana) -
           (opt.rtol * std::max(std::fabs(num), std::fabs(ana)) + opt.scale_rtol * scale + noise);
  };
  for (size_t k = 0; k < inputs.size(); ++k) {
    ag::Tensor x = inputs[k];
    if (!x.requires_grad()) continue;
    if (!x.grad().defined()) {
      BOOST_ERROR("input " << k << " received no gradient");
      continue;
    }
    const std::vector<float> analytic = x.grad().to_vector();
    double scale = 0, total = 0;
    for (float g : analytic) {
      scale = std::max(scale, static_cast<double>(std::fabs(g)));
      total += std::fabs(g);
    }
    const bool zero = std::count(opt.zero_gradient.begin(), opt.zero_gradient.end(), k) > 0;
    if (scale > 10 * resolution || zero) {
      std::vector<int64_t> positions;
      for (int64_t i = 0; i < x.numel(); ++i) positions.push_back(i);
      if (static_cast<int>(positions.size()) > opt.max_checked) {
        std::shuffle(positions.begin(), positions.end(), rng);
        positions.resize(opt.max_checked);
      }
      double worst = 0, largest_num = 0;
      std::ostringstream where;
      for (int64_t i : positions) {
        const Difference d = central_difference(f, inputs, x, {{i, 1.0f}}, w, opt.eps);
        largest_num = std::max(largest_num, std::fabs(d.num));
        const double err = excess(d.num, analytic[i], scale, d.noise);
        if (err > worst) {
          worst = err;
          where.str("");
          where << "input " << k << " element " << i << ": numeric " << d.num << ", analytic "
                << analytic[i] << " (gradient scale " << scale << ", rounding noise " << d.noise
                << ")";
        }
      }
      if (zero)
        BOOST_CHECK_MESSAGE(scale <= resolution && largest_num <= resolution,
                            "input " << k << ": expected a zero gradient, got analytic up to "
                                     << scale << ", numeric up to " << largest_num
                                     << " (resolution " << resolution << ")");
      else
        BOOST_CHECK_MESSAGE(worst <= 0, "gradient mismatch at " << where.str());
      continue;
    }
    Direction aligned, random;
    double ana_aligned = 0, ana_random = 0;
    for (int64_t i = 0; i < x.numel(); ++i) {
      const float a = analytic[i] < 0 ? -1.0f : 1.0f, r = rng() % 2 ? 1.0f : -1.0f;
      aligned.push_back({i, a});
      random.push_back({i, r});
      ana_aligned += a * analytic[i];
      ana_random += r * analytic[i];
    }
    if (total <= 10 * resolution) {
      std::ostringstream why;
      why << "input " << k << ": its gradient (largest element " << scale
          << ", sum of magnitudes " << total << ") is not above 10x the check's resolution ("
          << resolution << "): these values cannot test it";
      if (opt.unresolved_covered_by.empty())
        BOOST_ERROR(why.str());
      else
        BOOST_TEST_MESSAGE(why.str() << "; covered by " << opt.unresolved_covered_by);
      continue;
    }
    for (const auto& [name, v, ana] : {std::tuple{"its gradient's signs", &aligned, ana_aligned},
                                       std::tuple{"random signs", &random, ana_random}}) {
      const Difference d = central_difference(f, inputs, x, *v, w, opt.eps);
      BOOST_CHECK_MESSAGE(excess(d.num, ana, total, d.noise) <= 0,
                          "gradient mismatch of input " << k << " along " << name << ": numeric "
                                                        << d.num << ", analytic " << ana
                                                        << " (rounding noise " << d.noise << ")");
    }
  }
}

// Largest |a - b| over all elements (shapes must match).
inline float max_abs_diff(const ag::Tensor& a, const ag::Tensor& b) {
  BOOST_REQUIRE_MESSAGE(a.shape() == b.shape(), "shapes " << ag::shape_str(a.shape()) << " and "
                                                          << ag::shape_str(b.shape()));
  std::vector<float> x = a.to_vector(), y = b.to_vector();
  float m = 0;
  for (size_t i = 0; i < x.size(); ++i) m = std::max(m, std::fabs(x[i] - y[i]));
  return m;
}

// Largest |a| over all elements.
inline float max_abs(const ag::Tensor& a) {
  float m = 0;
  for (float v : a.to_vector()) m = std::max(m, std::fabs(v));
  return m;
}

// Checks every element of `t` against `expected` within `tol`.
inline void check_values(const ag::Tensor& t, const std::vector<float>& expected,
                         float tol = 1e-5f) {
  std::vector<float> v = t.to_vector();
  BOOST_REQUIRE_EQUAL(v.size(), expected.size());
  for (size_t i = 0; i < v.size(); ++i)
    BOOST_CHECK_MESSAGE(std::fabs(v[i] - expected[i]) <= tol * (1 + std::fabs(expected[i])),
                        "element " << i << ": " << v[i] << " != expected " << expected[i]);
}

// Runs `f` and checks it throws ag::Error whose message contains `fragment`.
template <class F>
void check_error(F f, const std::string& fragment) {
  try {
    f();
  } catch (const ag::Error& e) {
    BOOST_CHECK_MESSAGE(std::string(e.what()).find(fragment) != std::string::npos,
                        "message '" << e.what() << "' lacks '" << fragment << "'");
    return;
  }
  BOOST_ERROR("no ag::Error thrown (expected one mentioning '" << fragment << "')");
}

}  // namespace testing
