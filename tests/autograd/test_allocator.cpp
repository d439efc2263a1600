// Caching allocator: size classes, reuse, statistics, and a steady-state training step
// that takes no new memory from the system.
#include <boost/test/unit_test.hpp>

#include "autograd/allocator.h"
#include "common/gradcheck.h"

using namespace ag;

BOOST_AUTO_TEST_CASE(size_classes_bound_waste) {
  BOOST_CHECK_EQUAL(allocation_size(1), 64u);
  BOOST_CHECK_EQUAL(allocation_size(64), 64u);
  BOOST_CHECK_EQUAL(allocation_size(65), 128u);
  for (size_t n : {513ul, 1000ul, 4097ul, 1ul << 20, (1ul << 20) + 1, 123456789ul}) {
    size_t r = allocation_size(n);
    BOOST_CHECK(r >= n);
    BOOST_CHECK(r <= n + n / 8 + 64);
    BOOST_CHECK_EQUAL(r % 64, 0u);
  }
}

BOOST_AUTO_TEST_CASE(freed_blocks_are_reused) {
  AllocatorStats before = allocator_stats(Device::cpu);
  void* p = nullptr;
  {
    Tensor t = empty({1000, 37});
    p = t.raw();
  }
  AllocatorStats mid = allocator_stats(Device::cpu);
  Tensor u = empty({1000, 37});
  BOOST_CHECK_EQUAL(u.raw(), p);
  AllocatorStats after = allocator_stats(Device::cpu);
  BOOST_CHECK_EQUAL(after.system_allocs, mid.system_allocs);
  BOOST_CHECK_EQUAL(after.bytes_in_use - before.bytes_in_use,
                    static_cast<int64_t>(allocation_size(1000 * 37 * 4)));
  BOOST_CHECK_EQUAL(reinterpret_cast<uintptr_t>(u.raw()) % 64, 0u);
}

BOOST_AUTO_TEST_CASE(peak_memory_tracks_high_water_mark) {
  reset_peak_memory(Device::cpu);
  int64_t base = allocator_stats(Device::cpu).bytes_in_use;
  { Tensor big = empty({1 << 20}); }
  AllocatorStats s = allocator_stats(Device::cpu);
  BOOST_CHECK_EQUAL(s.peak_bytes_in_use - base, static_cast<int64_t>(allocation_size(4 << 20)));
  BOOST_CHECK_EQUAL(s.bytes_in_use, base);
  empty_cache(Device::cpu);
  BOOST_CHECK_EQUAL(allocator_stats(Device::cpu).bytes_cached, 0);
}

namespace {
// One step of a 3-layer MLP: forward, backward, SGD update, gradients dropped.
void mlp_step(std::vector<Tensor>& params, const Tensor& x, const Tensor& target) {
  Tensor h = x;
  for (size_t i = 0; i + 1 < params.size(); i += 2) {
    h = linear(h, params[i], params[i + 1]);
    if (i + 2 < params.size()) h = gelu(h);
  }
  Tensor diff = sub(h, target);
  mean(mul(diff, diff)).backward();
  NoGradGuard no_grad;
  for (Tensor& p : params) {
    Tensor updated = sub(p, mul(p.grad(), 0.01f));
    copy_(p, updated);
    p.set_grad(Tensor());
  }
}
}  // namespace

BOOST_AUTO_TEST_CASE(steady_state_step_allocates_nothing_new) {
  manual_seed(9);
  std::vector<Tensor> params = {normal({64, 32}), zeros({64}), normal({64, 64}), zeros({64}),
                                normal({8, 64}), zeros({8})};
  for (Tensor& p : params) p.set_requires_grad(true);
  Tensor x = normal({50, 32}), target = normal({50, 8});
  mlp_step(params, x, target);  // warm-up fills the cache
  mlp_step(params, x, target);
  int64_t before = allocator_stats(Device::cpu).system_allocs;
  for (int i = 0; i < 5; ++i) mlp_step(params, x, target);
  BOOST_CHECK_EQUAL(allocator_stats(Device::cpu).system_allocs, before);
}
