// The CUDA device: availability, host <-> device copies, the caching allocator, pinned
// buffers. Tests that need a GPU skip themselves where none answers.
#include <boost/test/unit_test.hpp>
#include <cstdlib>
#include <cstring>
#include <string>

#include "autograd/allocator.h"
#include "compare.h"

using namespace ag;
using gpu_testing::cuda_present;

// scripts/gpu-check.sh sets LATENTASR_REQUIRE_GPU=1: there, skipping for want of a GPU
// would hide that nothing ran, so it fails here instead.
BOOST_AUTO_TEST_CASE(available_agrees_with_device_count) {
  BOOST_TEST(cuda::available() == (cuda::device_count() > 0));
  BOOST_TEST_MESSAGE("CUDA devices: " << cuda::device_count());
  const char* require = std::getenv("LATENTASR_REQUIRE_GPU");
  if (require && std::string(require) == "1")
    BOOST_TEST(cuda::available(), "LATENTASR_REQUIRE_GPU=1 but no CUDA device answers");
}

// Where no GPU answers, asking for CUDA memory fails with the CUDA call's name.
boost::test_tools::assertion_result no_cuda(boost::unit_test::test_unit_id) {
  boost::test_tools::assertion_result r(!cuda::available());
  r.message() << "a CUDA device is present";
  return r;
}

BOOST_AUTO_TEST_CASE(cuda_tensor_without_gpu_names_the_call,
                     *boost::unit_test::precondition(no_cuda)) {
  try {
    empty({4}, DType::f32, Device::cuda);
    BOOST_FAIL("allocating on CUDA without a GPU did not throw");
  } catch (const Error& e) {
    BOOST_TEST_MESSAGE(e.what());
    BOOST_TEST(std::string(e.what()).find("cudaMalloc") != std::string::npos);
  }
}

BOOST_AUTO_TEST_SUITE(device, *boost::unit_test::precondition(cuda_present))

BOOST_AUTO_TEST_CASE(round_trip_keeps_every_dtype) {
  Tensor f = normal({3, 5});
  Tensor i = from_int_vector({-3, 0, 7, 1LL << 40}, {2, 2});
  Tensor m = from_mask({true, false, true}, {3});
  for (const Tensor& t : {f, i, m}) {
    Tensor g = t.to(Device::cuda);
    BOOST_TEST((g.device() == Device::cuda));
    BOOST_TEST((g.to(Device::cuda).same(g)));
    Tensor back = g.to(Device::cpu);
    BOOST_TEST((back.dtype() == t.dtype() && back.shape() == t.shape()));
    BOOST_TEST(std::memcmp(back.raw(), t.raw(), t.numel() * dtype_size(t.dtype())) == 0);
  }
}

BOOST_AUTO_TEST_CASE(fills_and_device_copies) {
  BOOST_TEST(zeros({2, 3}, DType::f32, Device::cuda).to_vector() == std::vector<float>(6, 0.0f));
  BOOST_TEST(full({5}, 2.5f, Device::cuda).to_vector() == std::vector<float>(5, 2.5f));
  BOOST_TEST(zeros({4}, DType::i64, Device::cuda).to_int_vector() == std::vector<int64_t>(4, 0));
  Tensor a = normal({7}).to(Device::cuda);
  BOOST_TEST(clone_data(a).to_vector() == a.to_vector());
  BOOST_TEST(a.at({3}) == a.to_vector()[3]);
}

BOOST_AUTO_TEST_CASE(allocator_reuses_freed_blocks) {
  empty_cache(Device::cuda);
  { Tensor warm = empty({1000}, DType::f32, Device::cuda); }
  const AllocatorStats before = allocator_stats(Device::cuda);
  BOOST_TEST(before.bytes_cached >= 4000);
  for (int step = 0; step < 5; ++step) Tensor t = empty({1000}, DType::f32, Device::cuda);
  const AllocatorStats after = allocator_stats(Device::cuda);
  BOOST_TEST(after.system_allocs == before.system_allocs);
  BOOST_TEST(after.bytes_in_use == before.bytes_in_use);
  empty_cache(Device::cuda);
  BOOST_TEST(allocator_stats(Device::cuda).bytes_cached == 0);
}

BOOST_AUTO_TEST_CASE(pinned_buffer_uploads) {
  const std::vector<float> values = {1, -2, 3.5f, 4, 5, 6};
  cuda::PinnedBuffer pinned(values.size() * sizeof(float));
  std::memcpy(pinned.data(), values.data(), pinned.bytes());
  Tensor t = empty({2, 3}, DType::f32, Device::cuda);
  cuda::copy_to_device_async(t, pinned);
  cuda::synchronize();
  BOOST_TEST(t.to_vector() == values);
  Tensor too_big = empty({4, 3}, DType::f32, Device::cuda);
  BOOST_CHECK_THROW(cuda::copy_to_device_async(too_big, pinned), Error);
}

BOOST_AUTO_TEST_SUITE_END()
