// The engine: accumulation, several paths, no-grad, detach, hooks, release, errors.
#include <boost/test/unit_test.hpp>

#include "autograd/allocator.h"
#include "common/gradcheck.h"

using namespace ag;
using testing::check_error;
using testing::check_values;

BOOST_AUTO_TEST_CASE(tensor_creation_and_access) {
  Tensor z = zeros({2, 3});
  BOOST_CHECK(z.shape() == (Shape{2, 3}));
  BOOST_CHECK_EQUAL(z.numel(), 6);
  BOOST_CHECK_EQUAL(z.size(-1), 3);
  check_values(z, {0, 0, 0, 0, 0, 0});
  check_values(ones({2}), {1, 1});
  check_values(full({2, 2}, 2.5f), {2.5f, 2.5f, 2.5f, 2.5f});
  check_values(arange(4), {0, 1, 2, 3});
  BOOST_CHECK(arange(3, DType::i64).to_int_vector() == (std::vector<int64_t>{0, 1, 2}));
  Tensor v = from_vector({1, 2, 3, 4, 5, 6}, {2, 3});
  BOOST_CHECK_EQUAL(v.at({1, 2}), 6.0f);
  BOOST_CHECK_EQUAL(v.at({0, 1}), 2.0f);
  BOOST_CHECK_EQUAL(full({}, 7.0f).item(), 7.0f);
  BOOST_CHECK(from_mask({true, false}, {2}).dtype() == DType::u8);
  std::ostringstream os;
  os << v;
  BOOST_CHECK(os.str().find("Tensor([2,3], float32, cpu)") != std::string::npos);
  BOOST_CHECK(os.str().find("6") != std::string::npos);
  check_error([&] { v.at({2, 0}); }, "at: index 2 out of range for dim 0 of shape [2,3]");
  check_error([&] { v.item(); }, "item: tensor of shape [2,3] is not one element");
  check_error([] { from_vector({1, 2, 3}, {2, 2}); }, "from_vector: 3 values for shape [2,2]");
  check_error([] { Tensor().shape(); }, "undefined tensor");
}

BOOST_AUTO_TEST_CASE(random_is_seeded) {
  manual_seed(42);
  std::vector<float> a = normal({100}).to_vector();
  manual_seed(42);
  std::vector<float> b = normal({100}).to_vector();
  BOOST_CHECK(a == b);
  std::vector<float> u = uniform({1000}, -2, 3).to_vector();
  double mean = 0;
  for (float x : u) {
    BOOST_CHECK(x >= -2 && x <= 3);
    mean += x / 1000.0;
  }
  BOOST_CHECK_CLOSE(mean, 0.5, 10.0);
  Generator g(7);
  std::string state = g.state();
  std::vector<float> first = normal({10}, 0, 1, g).to_vector();
  g.set_state(state);
  BOOST_CHECK(normal({10}, 0, 1, g).to_vector() == first);
}

BOOST_AUTO_TEST_CASE(gradient_through_several_paths_accumulates) {
  // y = x*x + 3x + x  ->  dy/dx = 2x + 4
  Tensor x = from_vector({1, -2, 0.5f}, {3}).set_requires_grad(true);
  Tensor y = sum(add(add(mul(x, x), mul(x, 3.0f)), x));
  y.backward();
  check_values(x.grad(), {6, 0, 5});
  // A second backward on a fresh graph accumulates into .grad().
  sum(mul(x, 2.0f)).backward();
  check_values(x.grad(), {8, 2, 7});
}

BOOST_AUTO_TEST_CASE(diamond_graph_and_shared_intermediate) {
  // z = e^x used twice: f = z*z + z, df/dx = (2z + 1) z
  Tensor x = from_vector({0.1f, -0.3f}, {2}).set_requires_grad(true);
  Tensor z = exp(x);
  sum(add(mul(z, z), z)).backward();
  std::vector<float> xv = {0.1f, -0.3f}, g = x.grad().to_vector();
  for (int i = 0; i < 2; ++i) {
    float e = std::exp(xv[i]);
    BOOST_CHECK_CLOSE(g[i], (2 * e + 1) * e, 1e-4);
  }
}

BOOST_AUTO_TEST_CASE(leaf_gradients_do_not_alias) {
  // add hands the same gradient buffer to both inputs; each leaf must own its own.
  Tensor a = ones({3}).set_requires_grad(true), b = ones({3}).set_requires_grad(true);
  sum(add(a, b)).backward();
  BOOST_CHECK(a.grad().impl().storage != b.grad().impl().storage);
  fill(a.grad(), 5.0f);
  check_values(b.grad(), {1, 1, 1});
}

BOOST_AUTO_TEST_CASE(no_grad_guard_and_detach) {
  Tensor x = ones({2}).set_requires_grad(true);
  {
    NoGradGuard guard;
    BOOST_CHECK(!grad_enabled());
    Tensor y = mul(x, 2.0f);
    BOOST_CHECK(!y.requires_grad());
    BOOST_CHECK(y.is_leaf());
  }
  BOOST_CHECK(grad_enabled());
  Tensor d = mul(x, 2.0f).detach();
  BOOST_CHECK(!d.requires_grad());
  // Gradient flows only through the non-detached path: d/dx (x * stop(x)) = stop(x) = 1.
  sum(mul(x, x.detach())).backward();
  check_values(x.grad(), {1, 1});
  check_error([&] { sum(d).backward(); }, "backward: the tensor does not require grad");
}

BOOST_AUTO_TEST_CASE(grad_mode_guard_sets_and_restores) {
  Tensor x = ones({2}).set_requires_grad(true);
  NoGradGuard outer;
  {
    GradModeGuard on(true);
    BOOST_CHECK(grad_enabled());
    BOOST_CHECK(mul(x, 2.0f).requires_grad());
    {
      GradModeGuard off(false);
      BOOST_CHECK(!grad_enabled());
    }
    BOOST_CHECK(grad_enabled());
  }
  BOOST_CHECK(!grad_enabled());
}

BOOST_AUTO_TEST_CASE(backward_errors) {
  Tensor x = ones({2, 2}).set_requires_grad(true);
  Tensor y = mul(x, 3.0f);
  check_error([&] { y.backward(); }, "backward: output of shape [2,2] is not a scalar");
  check_error([&] { y.backward(ones({3})); }, "backward: gradient [3] for output [2,2]");
  y.backward(full({2, 2}, 2.0f));
  check_values(x.grad(), {6, 6, 6, 6});
  check_error([&] { y.backward(ones({2, 2})); }, "was already released");
  check_error([&] { Tensor i = arange(2, DType::i64); i.set_requires_grad(true); },
              "int64 tensors cannot require grad");
  check_error([&] { y.set_requires_grad(false); }, "only leaf tensors");
}

BOOST_AUTO_TEST_CASE(retain_graph_allows_second_pass) {
  Tensor x = from_vector({2}, {1}).set_requires_grad(true);
  Tensor y = sum(mul(x, x));
  y.backward(Tensor(), true);
  y.backward();
  check_values(x.grad(), {8});
}

BOOST_AUTO_TEST_CASE(released_graph_frees_saved_tensors) {
  const int64_t n = 256 * 1024, bytes = n * static_cast<int64_t>(sizeof(float));
  Tensor x = normal({n}).set_requires_grad(true);
  auto in_use = [] { return allocator_stats(Device::cpu).bytes_in_use; };
  const int64_t base = in_use();
  Tensor loss = sum(exp(mul(x, 2.0f)));
  BOOST_CHECK(loss.grad_fn() != nullptr);
  BOOST_CHECK_GE(in_use() - base, bytes);  // exp's output, saved for its backward
  loss.backward();
  // Left: x's gradient and the loss; the saved output went with the released graph.
  BOOST_CHECK_GE(in_use() - base, bytes);
  BOOST_CHECK_LT(in_use() - base, bytes + bytes / 2);
  BOOST_CHECK(loss.grad_fn()->released);
  BOOST_CHECK(loss.grad_fn()->next.empty());
  BOOST_CHECK(!loss.grad_fn()->backward);
}

BOOST_AUTO_TEST_CASE(the_graph_keeps_only_what_backward_reads) {
  // h = x + 1 is read by no backward (add's gradient needs no operand, exp's reads its output):
  // once its handle is gone, its storage must be too, though the graph through it lives on.
  const int64_t n = 256 * 1024, bytes = n * static_cast<int64_t>(sizeof(float));
  Tensor x = normal({n}).set_requires_grad(true);
  const int64_t base = allocator_stats(Device::cpu).bytes_in_use;
  Tensor loss;
  {
    Tensor h = add(x, 1.0f);
    loss = sum(exp(h));
  }
  const int64_t held = allocator_stats(Device::cpu).bytes_in_use - base;
  BOOST_TEST_MESSAGE("held by the graph: " << held << " bytes (h and exp's output: " << bytes
                                           << " each)");
  BOOST_CHECK_GE(held, bytes);      // exp's output, which its backward reads
  BOOST_CHECK_LT(held, 2 * bytes);  // but not h
  loss.backward();
  BOOST_CHECK(x.grad().to_vector() == exp(add(x.detach(), 1.0f)).to_vector());
}

BOOST_AUTO_TEST_CASE(grad_ready_hooks_fire_once_when_final) {
  Tensor w1 = ones({2}).set_requires_grad(true), w2 = ones({2}).set_requires_grad(true);
  std::vector<std::string> fired;
  std::vector<float> seen;
  w1.register_grad_ready_hook([&](const Tensor& t) {
    fired.push_back("w1");
    seen = t.grad().to_vector();  // final: both uses of w1 have contributed
  });
  w2.register_grad_ready_hook([&](const Tensor&) { fired.push_back("w2"); });
  // w1 used twice (early and late in the graph), w2 once.
  Tensor h = mul(w1, 2.0f);
  Tensor out = sum(add(mul(h, w2), w1));
  out.backward();
  BOOST_REQUIRE_EQUAL(fired.size(), 2u);
  BOOST_CHECK(std::count(fired.begin(), fired.end(), "w1") == 1);
  check_values(from_vector(seen, {2}), {3, 3});  // d/dw1 = 2*w2 + 1
  check_error([] { mul(ones({1}).set_requires_grad(true), 2.0f).register_grad_ready_hook(
                       [](const Tensor&) {}); },
              "only leaves that require grad");
}

BOOST_AUTO_TEST_CASE(grad_returns_gradients_without_touching_the_leaves) {
  Tensor a = from_vector({1, 2}, {2}).set_requires_grad(true);
  Tensor b = from_vector({3, 4}, {2}).set_requires_grad(true);
  int fired = 0;
  a.register_grad_ready_hook([&](const Tensor&) { ++fired; });
  Tensor out = sum(mul(mul(a, b), a));  // d/da = 2ab, d/db = a^2
  std::vector<Tensor> g = grad(out, Tensor(), {a});
  BOOST_REQUIRE_EQUAL(g.size(), 1u);
  check_values(g[0], {6, 16});
  BOOST_CHECK(!a.grad().defined());
  BOOST_CHECK_EQUAL(fired, 0);
  check_values(b.grad(), {1, 4});  // not listed: accumulated as backward() does
  check_error([&] { grad(sum(mul(a, 2.0f)), Tensor(), {mul(a, 2.0f)}); }, "not a leaf");
}

BOOST_AUTO_TEST_CASE(deep_graph_does_not_overflow_the_stack) {
  Tensor x = ones({1}).set_requires_grad(true);
  Tensor y = x;
  for (int i = 0; i < 100000; ++i) y = add(y, 0.0f);
  sum(y).backward();
  check_values(x.grad(), {1});
}

BOOST_AUTO_TEST_CASE(dropping_a_deep_graph_does_not_overflow_the_stack) {
  Tensor x = ones({1}).set_requires_grad(true);
  Tensor y = x;
  for (int i = 0; i < 1000000; ++i) y = add(y, 0.0f);
  BOOST_CHECK(!x.impl().grad_accumulator.expired());  // the chain reaches x's accumulator
  y = Tensor();  // the whole chain is freed without backward
  BOOST_CHECK(x.impl().grad_accumulator.expired());
}
