// Optimizers against hand-computed PyTorch updates, clipping, schedules, state round trip.
#include <omp.h>

#include <boost/test/unit_test.hpp>

#include "autograd/kernels/optim.h"
#include "autograd/random.h"

#include "common/gradcheck.h"
#include "nn/optim.h"
#include "nn/schedule.h"

using namespace ag;
using testing::check_error;
using testing::check_values;

namespace {
nn::NamedTensors one_param(std::vector<float> v) {
  Tensor p = from_vector(v, {static_cast<int64_t>(v.size())}).set_requires_grad(true);
  return {{"w", p}};
}
void set_grad(nn::NamedTensors& ps, std::vector<float> g) {
  ps[0].second.set_grad(from_vector(g, ps[0].second.shape()));
}
}  // namespace

BOOST_AUTO_TEST_CASE(sgd_momentum_matches_pytorch_recurrence) {
  auto ps = one_param({1.0f, -2.0f});
  nn::SGD opt(ps, 0.1f, 0.9f, 0.01f);
  // PyTorch: g += wd*p; buf = momentum*buf + g (buf = g at first); p -= lr*buf
  std::vector<float> p = {1.0f, -2.0f}, buf = {0, 0};
  for (int step = 0; step < 3; ++step) {
    std::vector<float> g = {0.5f + step, -0.25f};
    set_grad(ps, g);
    opt.step();
    for (int i = 0; i < 2; ++i) {
      float gi = g[i] + 0.01f * p[i];
      buf[i] = step == 0 ? gi : 0.9f * buf[i] + gi;
      p[i] -= 0.1f * buf[i];
    }
    check_values(ps[0].second, p, 1e-6f);
  }
}

BOOST_AUTO_TEST_CASE(adam_and_adamw_match_reference) {
  for (bool decoupled : {false, true}) {
    auto ps = one_param({0.5f, -1.5f, 2.0f});
    nn::Adam opt(ps, 0.01f, 0.9f, 0.98f, 1e-9f, 0.1f, decoupled);
    std::vector<double> p = {0.5, -1.5, 2.0}, m(3, 0), v(3, 0);
    for (int t = 1; t <= 4; ++t) {
      std::vector<float> g = {0.1f * t, -0.3f, 0.05f};
      set_grad(ps, g);
      opt.step();
      for (int i = 0; i < 3; ++i) {
        double gi = g[i] + (decoupled ? 0 : 0.1 * p[i]);
        if (decoupled) p[i] *= 1 - 0.01 * 0.1;
        m[i] = 0.9 * m[i] + 0.1 * gi;
        v[i] = 0.98 * v[i] + 0.02 * gi * gi;
        double mh = m[i] / (1 - std::pow(0.9, t)), denom = std::sqrt(v[i]) / std::sqrt(1 - std::pow(0.98, t)) + 1e-9;
        p[i] -= 0.01 * mh / denom;
      }
      check_values(ps[0].second, {float(p[0]), float(p[1]), float(p[2])}, 1e-5f);
    }
    BOOST_CHECK_EQUAL(opt.steps(), 4);
  }
}

BOOST_AUTO_TEST_CASE(params_without_grad_are_skipped) {
  auto ps = one_param({1, 2});
  nn::Adam opt(ps, 0.1f);
  opt.step();
  check_values(ps[0].second, {1, 2});
}

BOOST_AUTO_TEST_CASE(clip_by_global_norm) {
  Tensor a = ones({3}).set_requires_grad(true), b = ones({1}).set_requires_grad(true);
  nn::NamedTensors ps = {{"a", a}, {"b", b}};
  a.set_grad(from_vector({3, 0, 0}, {3}));
  b.set_grad(from_vector({4}, {1}));
  BOOST_CHECK_CLOSE(nn::clip_grad_norm(ps, 10.0f), 5.0f, 1e-4);
  check_values(a.grad(), {3, 0, 0});  // under the bound: untouched
  BOOST_CHECK_CLOSE(nn::clip_grad_norm(ps, 1.0f), 5.0f, 1e-4);
  BOOST_CHECK_CLOSE(nn::grad_norm(ps), 1.0f, 1e-3);
  check_values(b.grad(), {0.8f}, 1e-5f);
  a.set_grad(from_vector({INFINITY, 0, 0}, {3}));
  BOOST_CHECK(!std::isfinite(nn::clip_grad_norm(ps, 1.0f)));
}

// The squared norm behind clipping: the same bits for every thread count (training is
// bit-reproducible only if the clip factor is; issue #18).
BOOST_AUTO_TEST_CASE(sum_squares_is_the_same_for_every_thread_count) {
  Generator gen(3);
  Tensor g = normal({1 << 20}, 0.0f, 1.0f, gen);
  const int saved = omp_get_max_threads();
  omp_set_num_threads(1);
  const double serial = ag::kernels::sum_squares[g.device()](g.data(), g.numel());
  BOOST_CHECK_CLOSE(serial, static_cast<double>(g.numel()), 1.0);  // E[x^2] = 1
  for (int threads : {2, 3, 4, 7}) {
    omp_set_num_threads(threads);
    const double parallel = ag::kernels::sum_squares[g.device()](g.data(), g.numel());
    BOOST_CHECK_MESSAGE(parallel == serial, threads << " threads: " << std::hexfloat << parallel
                                                    << " against 1 thread: " << serial);
  }
  omp_set_num_threads(saved);
}

BOOST_AUTO_TEST_CASE(schedules) {
  nn::WarmupLR warm(1e-3f, 100);
  BOOST_CHECK_CLOSE(warm.lr(100), 1e-3f, 1e-3);  // peak at warmup
  BOOST_CHECK_CLOSE(warm.lr(50), 0.5e-3f, 1e-3);  // linear ramp
  BOOST_CHECK_CLOSE(warm.lr(400), 0.5e-3f, 1e-3);  // step^-0.5 decay
  nn::NoamLR noam(1.0f, 256, 25000);
  BOOST_CHECK_CLOSE(noam.lr(25000), 1.0 / 16 / std::sqrt(25000.0), 1e-3);
  nn::CosineLR cos(1.0f, 10, 110, 0.1f);
  BOOST_CHECK_CLOSE(cos.lr(5), 0.5f, 1e-4);
  BOOST_CHECK_CLOSE(cos.lr(10), 1.0f, 1e-4);
  BOOST_CHECK_CLOSE(cos.lr(60), 0.55f, 1e-3);
  BOOST_CHECK_CLOSE(cos.lr(110), 0.1f, 1e-3);
  BOOST_CHECK_CLOSE(cos.lr(500), 0.1f, 1e-3);
}

BOOST_AUTO_TEST_CASE(state_round_trip_resumes_exactly) {
  auto run = [](nn::Adam& opt, nn::NamedTensors& ps, int from, int to) {
    for (int t = from; t < to; ++t) {
      set_grad(ps, {0.1f * t, -0.2f});
      opt.step();
    }
  };
  auto straight = one_param({1, 1});
  nn::Adam a(straight, 0.05f);
  run(a, straight, 0, 6);
  auto first = one_param({1, 1});
  nn::Adam b(first, 0.05f);
  run(b, first, 0, 3);
  nn::NamedTensors saved = b.state();
  auto resumed = one_param(first[0].second.to_vector());
  nn::Adam c(resumed, 0.05f);
  c.load_state(saved);
  BOOST_CHECK_EQUAL(c.steps(), 3);
  run(c, resumed, 3, 6);
  BOOST_CHECK(resumed[0].second.to_vector() == straight[0].second.to_vector());
  nn::NamedTensors bad = saved;
  bad.back().first = "exp_avg.nothere";
  check_error([&] { c.load_state(bad); }, "'exp_avg.nothere' names no parameter");
  check_error([&] { nn::Adam(straight, -1.0f); }, "negative learning rate");
}

// An optimizer made before Module::to (which rebinds parameters with set_data) updates the
// rebound storage, and its state lives on the parameter's device.
BOOST_AUTO_TEST_CASE(optimizer_follows_rebound_parameters) {
  auto ps = one_param({1, 2});
  Tensor handle = ps[0].second;
  nn::SGD opt(ps, 0.5f, 0.9f);
  set_grad(ps, {1, 1});
  opt.step();  // creates the momentum buffer
  handle.set_data(from_vector({10, 20}, {2}));
  BOOST_CHECK(!handle.grad().defined());
  set_grad(ps, {2, 0});
  opt.step();  // buf = 0.9 * 1 + g
  check_values(handle, {10 - 0.5f * 2.9f, 20 - 0.5f * 0.9f}, 1e-6f);
  for (auto& [name, t] : opt.state())
    BOOST_CHECK_MESSAGE(t.device() == handle.device(), name << " left the parameter's device");
}
