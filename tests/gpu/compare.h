// The CUDA backend against the CPU one: the same op on the same inputs on both devices,
// outputs and input gradients compared element by element.
//
//   BOOST_AUTO_TEST_SUITE(ops, *boost::unit_test::precondition(gpu_testing::cuda_present))
//   compare_with_cpu("gelu", [](const Inputs& in) { return ag::gelu(in[0]); },
//                    {ag::normal({4, 5})});
#pragma once
#include <boost/test/unit_test.hpp>
#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "autograd/cuda.h"
#include "autograd/ops.h"

namespace gpu_testing {

// Suites that need a GPU are skipped, with this message, where none answers.
inline boost::test_tools::assertion_result cuda_present(boost::unit_test::test_unit_id) {
  boost::test_tools::assertion_result r(ag::cuda::available());
  r.message() << "no CUDA device (ag::cuda::available() is false): skipped";
  return r;
}

// |got - want| <= rtol * max(1, |want|) everywhere; equal infinities and NaN pairs agree.
inline void expect_close(const ag::Tensor& got, const ag::Tensor& want, float rtol,
                         const std::string& what) {
  BOOST_REQUIRE_MESSAGE(got.shape() == want.shape(), what << ": shape " << ag::shape_str(got.shape())
                                                          << " vs " << ag::shape_str(want.shape()));
  const std::vector<float> g = got.to_vector(), w = want.to_vector();
  size_t bad = 0, first = 0;
  for (size_t i = 0; i < g.size(); ++i) {
    const bool same = g[i] == w[i] || (std::isnan(g[i]) && std::isnan(w[i]));
    if (same || std::fabs(g[i] - w[i]) <= rtol * std::max(1.0f, std::fabs(w[i]))) continue;
    if (bad++ == 0) first = i;
  }
  BOOST_CHECK_MESSAGE(bad == 0, what << ": " << bad << " of " << g.size()
                                     << " elements differ beyond " << rtol << ", first at "
                                     << first << ": cuda " << (bad ? g[first] : 0.0f)
                                     << ", cpu " << (bad ? w[first] : 0.0f));
}

// ||got - want|| / ||want|| (for TF32, whose error is relative to the whole product).
inline double norm_relative_error(const ag::Tensor& got, const ag::Tensor& want) {
  const std::vector<float> g = got.to_vector(), w = want.to_vector();
  double num = 0, den = 0;
  for (size_t i = 0; i < g.size(); ++i) {
    num += (static_cast<double>(g[i]) - w[i]) * (static_cast<double>(g[i]) - w[i]);
    den += static_cast<double>(w[i]) * w[i];
  }
  return std::sqrt(num / std::max(den, 1e-30));
}

using Inputs = std::vector<ag::Tensor>;
using Fn = std::function<ag::Tensor(const Inputs&)>;

// Runs f on CPU copies of `inputs` and on CUDA copies, compares the outputs, then (when the
// output needs a gradient) back-propagates one random output gradient through both and
// compares every float32 input's gradient.
inline void compare_with_cpu(const std::string& name, const Fn& f, const Inputs& inputs,
                             float rtol = 1e-4f) {
  Inputs cpu, gpu;
  for (const ag::Tensor& x : inputs) {
    ag::Tensor c = ag::clone_data(x), g = x.to(ag::Device::cuda);
    if (x.dtype() == ag::DType::f32) {
      c.set_requires_grad(true);
      g.set_requires_grad(true);
    }
    cpu.push_back(c);
    gpu.push_back(g);
  }
  const ag::Tensor yc = f(cpu), yg = f(gpu);
  BOOST_CHECK_MESSAGE(yg.device() == ag::Device::cuda, name << ": output left the GPU");
  expect_close(yg, yc, rtol, name + " forward");
  if (!yc.requires_grad()) return;
  const ag::Tensor gy = ag::normal(yc.shape());
  yc.backward(gy);
  yg.backward(gy.to(ag::Device::cuda));
  for (size_t i = 0; i < cpu.size(); ++i) {
    if (!cpu[i].grad().defined()) continue;
    BOOST_REQUIRE_MESSAGE(gpu[i].grad().defined(), name << ": no CUDA gradient for input " << i);
    expect_close(gpu[i].grad(), cpu[i].grad(), rtol, name + " gradient of input " + std::to_string(i));
  }
}

}  // namespace gpu_testing
