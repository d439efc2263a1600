// Activation checkpointing: same values and gradients as the plain run (dropout included),
// parameters inside the segment get gradients (their hooks once, with the whole gradient),
// buffers are updated once, less peak memory.
#include <boost/test/unit_test.hpp>

#include "autograd/allocator.h"
#include "common/gradcheck.h"
#include "nn/checkpoint.h"
#include "nn/linear.h"
#include "nn/normalization.h"

using namespace ag;
using testing::max_abs_diff;

namespace {
// Linear -> tanh -> dropout -> Linear, with a BatchNorm1d on the way.
struct Segment : nn::Module {
  std::shared_ptr<nn::Linear> a, b;
  std::shared_ptr<nn::BatchNorm1d> norm;
  Segment(int64_t d) {
    a = register_module("a", std::make_shared<nn::Linear>(d, 2 * d));
    norm = register_module("norm", std::make_shared<nn::BatchNorm1d>(2 * d));
    b = register_module("b", std::make_shared<nn::Linear>(2 * d, d));
  }
  Tensor forward(const Tensor& x) const {
    Tensor h = dropout(tanh(norm->forward(a->forward(x))), 0.3f, is_training());
    return dropout(b->forward(h), 0.2f, is_training());
  }
};

std::vector<Tensor> buffers_of(const nn::Module& m) {
  std::vector<Tensor> out;
  for (auto& [n, t] : m.named_buffers()) out.push_back(t);
  return out;
}

struct Run {
  Tensor out, x_grad;
  std::vector<Tensor> grads, buffers;
  float next_random;
};

// Two segments in a row, optionally checkpointed; the loss also uses the input directly.
Run run(bool use_checkpoint, bool input_needs_grad) {
  manual_seed(11);
  Segment s1(6), s2(6);
  manual_seed(12);
  Tensor x = normal({10, 6});
  if (input_needs_grad) x.set_requires_grad(true);
  Tensor h = x;
  for (Segment* s : {&s1, &s2}) {
    auto fn = [s](const std::vector<Tensor>& in) { return s->forward(in[0]); };
    h = use_checkpoint ? nn::checkpoint(fn, {h}, buffers_of(*s), s->parameters()) : fn({h});
  }
  Tensor loss = sum(h * h) + (input_needs_grad ? sum(x) : sum(h) * 0.0f);
  loss.backward();
  Run r{h.detach(), x.grad(), {}, {}, uniform({1}, 0, 1).item()};
  for (Segment* s : {&s1, &s2}) {
    for (auto& p : s->parameters()) r.grads.push_back(p.grad());
    for (auto& b : buffers_of(*s)) r.buffers.push_back(clone_data(b));
  }
  return r;
}

void check_same(const Run& a, const Run& b) {
  BOOST_CHECK_EQUAL(max_abs_diff(a.out, b.out), 0.0f);
  BOOST_REQUIRE_EQUAL(a.grads.size(), b.grads.size());
  for (size_t i = 0; i < a.grads.size(); ++i) {
    BOOST_REQUIRE_MESSAGE(b.grads[i].defined(), "parameter " << i << " got no gradient");
    BOOST_CHECK_LE(max_abs_diff(a.grads[i], b.grads[i]), 1e-6f);
  }
  for (size_t i = 0; i < a.buffers.size(); ++i) {
    if (a.buffers[i].dtype() == DType::i64)
      BOOST_CHECK(a.buffers[i].to_int_vector() == b.buffers[i].to_int_vector());
    else
      BOOST_CHECK_EQUAL(max_abs_diff(a.buffers[i], b.buffers[i]), 0.0f);
  }
  BOOST_CHECK_EQUAL(a.next_random, b.next_random);  // the generator ends where it would have
}
}  // namespace

BOOST_AUTO_TEST_CASE(same_values_and_gradients_with_dropout) {
  Run plain = run(false, true), ckpt = run(true, true);
  check_same(plain, ckpt);
  BOOST_REQUIRE(ckpt.x_grad.defined());
  BOOST_CHECK_LE(max_abs_diff(plain.x_grad, ckpt.x_grad), 1e-6f);
  // The batch norms counted one batch each, not two.
  BOOST_CHECK_EQUAL(ckpt.buffers[2].to_int_vector()[0], 1);
}

BOOST_AUTO_TEST_CASE(parameters_get_gradients_when_no_input_needs_one) {
  check_same(run(false, false), run(true, false));
}

BOOST_AUTO_TEST_CASE(gradients_match_finite_differences) {
  manual_seed(13);
  nn::Linear lin(4, 3);
  auto fn = [&](const std::vector<Tensor>& in) { return tanh(lin.forward(in[0])) * in[1]; };
  testing::check_gradients(
      [&](const std::vector<Tensor>& in) { return nn::checkpoint(fn, {in[0], in[1]}); },
      {normal({5, 4}).set_requires_grad(true), normal({5, 3}).set_requires_grad(true),
       lin.weight, lin.bias});
}

BOOST_AUTO_TEST_CASE(a_shared_parameter_gets_its_whole_gradient_before_its_hook) {
  // One Linear used in two checkpointed segments and once outside them: its grad-ready hook
  // (where data-parallel training starts the all-reduce) runs once, with the whole gradient.
  auto hooked_gradient = [](bool use_checkpoint) {
    manual_seed(15);
    nn::Linear shared(5, 5);
    int fired = 0;
    std::vector<float> at_hook;
    shared.weight.register_grad_ready_hook([&](const Tensor& w) {
      ++fired;
      at_hook = w.grad().to_vector();
    });
    auto fn = [&](const std::vector<Tensor>& in) { return tanh(shared.forward(in[0])); };
    Tensor x = normal({3, 5}), h = x;
    for (int s = 0; s < 2; ++s)
      h = use_checkpoint ? nn::checkpoint(fn, {h}, {}, shared.parameters()) : fn({h});
    sum(mul(shared.forward(x), h)).backward();
    BOOST_CHECK_EQUAL(fired, 1);
    BOOST_CHECK(at_hook == shared.weight.grad().to_vector());
    return from_vector(at_hook, {5, 5});
  };
  BOOST_CHECK_LE(max_abs_diff(hooked_gradient(true), hooked_gradient(false)), 1e-6f);
}

BOOST_AUTO_TEST_CASE(undefined_inputs_and_no_grad_mode) {
  nn::Linear lin(4, 4);
  auto fn = [&](const std::vector<Tensor>& in) {
    BOOST_CHECK(!in[1].defined());
    return lin.forward(in[0]);
  };
  Tensor x = normal({2, 4});
  Tensor y = nn::checkpoint(fn, {x, Tensor()});
  BOOST_CHECK(y.requires_grad());
  sum(y).backward();
  BOOST_CHECK(lin.weight.grad().defined());
  NoGradGuard no_grad;
  BOOST_CHECK(!nn::checkpoint(fn, {x, Tensor()}).requires_grad());
}

BOOST_AUTO_TEST_CASE(lower_peak_memory) {
  // Eight segments of twenty large intermediates: checkpointed, backward holds one
  // segment's intermediates at a time instead of all of them.
  manual_seed(14);
  const int64_t n = 256;
  Tensor w = normal({n, n}, 0.0f, 0.05f).set_requires_grad(true);
  auto segment = [&](const std::vector<Tensor>& in) {
    Tensor h = in[0];
    for (int i = 0; i < 10; ++i) h = tanh(matmul(h, w));
    return h;
  };
  auto peak = [&](bool use_checkpoint) {
    w.set_grad(Tensor());
    Tensor x = normal({n, n});
    reset_peak_memory(Device::cpu);
    const int64_t before = allocator_stats(Device::cpu).bytes_in_use;
    {
      Tensor h = x;
      for (int s = 0; s < 8; ++s) h = use_checkpoint ? nn::checkpoint(segment, {h}) : segment({h});
      sum(h).backward();
    }
    return allocator_stats(Device::cpu).peak_bytes_in_use - before;
  };
  const int64_t plain = peak(false), ckpt = peak(true);
  BOOST_TEST_MESSAGE("peak bytes: plain " << plain << ", checkpointed " << ckpt);
  BOOST_CHECK_LT(ckpt * 3, plain);
}
