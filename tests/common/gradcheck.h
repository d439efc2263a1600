// Finite-difference gradient checks for tests.
//
//   check_gradients([](const std::vector<Tensor>& in) { return ag::tanh(in[0]); },
//                   {ag::normal({3, 4})});
//
// The scalar checked is L = sum(f(inputs) * w) for fixed random weights w, accumulated in
// double. Each checked input element is moved by +-eps (float32) and the central
// difference compared with the analytic gradient: |num - ana| <= atol + rtol * |num|.
// Inputs with more than `max_checked` elements are checked at a random sample of positions.
#pragma once
#include <boost/test/unit_test.hpp>
#include <cmath>
#include <functional>
#include <random>
#include <sstream>

#include "autograd/ops.h"

namespace testing {

struct GradCheck {
  float eps = 1e-3f;
  float atol = 1e-3f;
  float rtol = 1e-2f;
  int max_checked = 300;
};

using Fn = std::function<ag::Tensor(const std::vector<ag::Tensor>&)>;

inline double weighted_sum(const ag::Tensor& y, const std::vector<float>& w) {
  std::vector<float> v = y.to_vector();
  double s = 0;
  for (size_t i = 0; i < v.size(); ++i) s += static_cast<double>(v[i]) * w[i];
  return s;
}

// Checks every float32 input that requires grad (inputs are marked if none is).
inline void check_gradients(const Fn& f, std::vector<ag::Tensor> inputs,
                            GradCheck opt = GradCheck()) {
  bool any = false;
  for (auto& t : inputs) any |= t.requires_grad();
  if (!any)
    for (auto& t : inputs)
      if (t.dtype() == ag::DType::f32) t.set_requires_grad(true);

  ag::Tensor y = f(inputs);
  std::mt19937 rng(1234);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  std::vector<float> w(y.numel());
  for (float& v : w) v = dist(rng);
  ag::sum(ag::mul(y, ag::from_vector(w, y.shape()))).backward();

  ag::NoGradGuard no_grad;
  for (size_t k = 0; k < inputs.size(); ++k) {
    ag::Tensor x = inputs[k];
    if (!x.requires_grad()) continue;
    BOOST_REQUIRE_MESSAGE(x.grad().defined(), "input " << k << " received no gradient");
    std::vector<float> analytic = x.grad().to_vector();
    std::vector<int64_t> positions;
    for (int64_t i = 0; i < x.numel(); ++i) positions.push_back(i);
    if (static_cast<int>(positions.size()) > opt.max_checked) {
      std::shuffle(positions.begin(), positions.end(), rng);
      positions.resize(opt.max_checked);
    }
    float* p = x.data();
    double worst = 0;
    std::ostringstream where;
    for (int64_t i : positions) {
      float orig = p[i];
      p[i] = orig + opt.eps;
      double up = weighted_sum(f(inputs), w);
      p[i] = orig - opt.eps;
      double down = weighted_sum(f(inputs), w);
      p[i] = orig;
      double num = (up - down) / (2.0 * opt.eps);
      double err = std::fabs(num - analytic[i]) - (opt.atol + opt.rtol * std::fabs(num));
      if (err > worst) {
        worst = err;
        where.str("");
        where << "input " << k << " element " << i << ": numeric " << num << ", analytic "
              << analytic[i];
      }
    }
    BOOST_CHECK_MESSAGE(worst <= 0, "gradient mismatch at " << where.str());
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
