// Module: names, counts, load with checks, safetensors round trips, train/eval.
#include <unistd.h>
#include <boost/test/unit_test.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "autograd/cuda.h"
#include "common/gradcheck.h"
#include "nn/linear.h"
#include "nn/module.h"
#include "nn/normalization.h"

using namespace ag;
using testing::check_error;

namespace {
struct Block : nn::Module {
  std::shared_ptr<nn::Linear> proj;
  std::shared_ptr<nn::BatchNorm1d> norm;
  Block() {
    proj = register_module("proj", std::make_shared<nn::Linear>(4, 3));
    norm = register_module("norm", std::make_shared<nn::BatchNorm1d>(3));
  }
};
struct Net : nn::Module {
  std::shared_ptr<nn::ModuleList<Block>> layers;
  Tensor scale;
  Net() {
    scale = register_parameter("scale", ones({1}));
    layers = register_module("layers", std::make_shared<nn::ModuleList<Block>>());
    for (int i = 0; i < 2; ++i) layers->push_back(std::make_shared<Block>());
  }
};

std::string temp_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() / ("latentasr_" + name + "_" + std::to_string(getpid()))).string();
}
}  // namespace

BOOST_AUTO_TEST_CASE(dotted_names_and_counts) {
  Net net;
  std::vector<std::string> names;
  for (auto& [n, t] : net.named_parameters()) names.push_back(n);
  std::vector<std::string> expect = {"scale", "layers.0.proj.weight", "layers.0.proj.bias",
                                     "layers.0.norm.weight", "layers.0.norm.bias",
                                     "layers.1.proj.weight", "layers.1.proj.bias",
                                     "layers.1.norm.weight", "layers.1.norm.bias"};
  BOOST_CHECK(names == expect);
  BOOST_CHECK_EQUAL(net.num_parameters(), 1 + 2 * (12 + 3 + 3 + 3));
  auto buffers = net.named_buffers();
  BOOST_REQUIRE_EQUAL(buffers.size(), 6u);
  BOOST_CHECK_EQUAL(buffers[0].first, "layers.0.norm.running_mean");
  BOOST_CHECK_EQUAL(buffers[2].first, "layers.0.norm.num_batches_tracked");
  BOOST_CHECK_EQUAL(net.state_dict().size(), 15u);
  for (auto& [n, t] : net.named_parameters()) BOOST_CHECK(t.requires_grad());
}

BOOST_AUTO_TEST_CASE(train_eval_propagates) {
  Net net;
  net.eval();
  for (auto& [name, m] : net.named_modules()) BOOST_CHECK(!m->is_training());
  net.train();
  BOOST_CHECK((*net.layers)[1].norm->is_training());
}

BOOST_AUTO_TEST_CASE(linear_init_matches_pytorch_bounds) {
  manual_seed(0);
  nn::Linear lin(400, 50);
  float bound = 1.0f / 20.0f;
  float lo = 1, hi = -1;
  for (float v : lin.weight.to_vector()) lo = std::min(lo, v), hi = std::max(hi, v);
  BOOST_CHECK(lo >= -bound && hi <= bound);
  BOOST_CHECK(hi > 0.9f * bound && lo < -0.9f * bound);  // fills the range
  nn::Linear nobias(3, 2, false);
  BOOST_CHECK(!nobias.bias.defined());
  BOOST_CHECK_EQUAL(nobias.num_parameters(), 6);
}

BOOST_AUTO_TEST_CASE(safetensors_round_trip_is_bit_exact) {
  manual_seed(1);
  Net a, b;
  std::string path = temp_path("roundtrip.safetensors");
  a.save(path, {{"step", "42"}, {"config", "model:\n  d_model: 4\n"}});
  BOOST_CHECK(!std::filesystem::exists(path + ".tmp"));
  nn::Metadata meta = b.load(path);
  BOOST_CHECK_EQUAL(meta.at("step"), "42");
  BOOST_CHECK_EQUAL(meta.at("config"), "model:\n  d_model: 4\n");
  auto sa = a.state_dict(), sb = b.state_dict();
  for (size_t i = 0; i < sa.size(); ++i) {
    BOOST_CHECK_EQUAL(sa[i].first, sb[i].first);
    size_t bytes = sa[i].second.numel() * dtype_size(sa[i].second.dtype());
    BOOST_CHECK(std::memcmp(sa[i].second.raw(), sb[i].second.raw(), bytes) == 0);
  }
  // Header layout: u64 length, JSON, data 8-byte aligned.
  std::ifstream in(path, std::ios::binary);
  uint64_t n = 0;
  in.read(reinterpret_cast<char*>(&n), 8);
  BOOST_CHECK_EQUAL(n % 8, 0u);
  std::string header(n, ' ');
  in.read(header.data(), n);
  BOOST_CHECK(header.find("\"layers.0.proj.weight\":{\"data_offsets\"") != std::string::npos);
  BOOST_CHECK(header.find("\"dtype\":\"I64\"") != std::string::npos);
  std::remove(path.c_str());
}

BOOST_AUTO_TEST_CASE(load_checks_names_and_shapes) {
  Net net;
  struct Wrong : nn::Module {
    Wrong() { register_parameter("scale", ones({2})); }
  } wrong;
  check_error([&] { net.load_state_dict(wrong.state_dict()); },
              "load: 'scale' has shape [2] float32 in the checkpoint but [1] float32 in the model");
  check_error([&] { net.load_state_dict({}); }, "load: 'scale' (shape [1]) is missing from the checkpoint");
  auto extra = net.state_dict();
  extra.emplace_back("bogus", ones({1}));
  check_error([&] { net.load_state_dict(extra); }, "the checkpoint has 'bogus', which the model does not");
  // Non-strict: loads what matches, reports it.
  auto some = net.state_dict();
  some.resize(1);
  fill(some[0].second, 3.0f);
  std::vector<std::string> loaded = net.load_state_dict(some, false);
  BOOST_CHECK(loaded == std::vector<std::string>{"scale"});
  // A failed load leaves the model untouched.
  Tensor before = clone_data(net.scale);
  auto bad = net.state_dict();
  bad[0].second = full({1}, 9.0f);
  bad[1].second = ones({7});
  check_error([&] { net.load_state_dict(bad); }, "layers.0.proj.weight");
  BOOST_CHECK_EQUAL(net.scale.item(), before.item());
}

BOOST_AUTO_TEST_CASE(corrupt_files_fail_clearly) {
  std::string path = temp_path("corrupt.safetensors");
  check_error([&] { nn::load_safetensors(path + ".missing"); }, "cannot open");
  { std::ofstream(path, std::ios::binary) << "abc"; }
  check_error([&] { nn::load_safetensors(path); }, "not a safetensors file");
  {
    std::ofstream out(path, std::ios::binary);
    uint64_t n = 1000;
    out.write(reinterpret_cast<char*>(&n), 8);
    out << "{}";
  }
  check_error([&] { nn::load_safetensors(path); }, "exceeds the file size");
  {
    std::string head = R"({"w":{"dtype":"F32","shape":[4],"data_offsets":[0,8]}})";
    std::ofstream out(path, std::ios::binary);
    uint64_t n = head.size();
    out.write(reinterpret_cast<char*>(&n), 8);
    out << head << std::string(8, '\0');
  }
  check_error([&] { nn::load_safetensors(path); }, "tensor 'w' of shape [4] has 8 bytes, expected 16");
  auto write_header = [&](const std::string& head) {
    std::ofstream out(path, std::ios::binary);
    uint64_t n = head.size();
    out.write(reinterpret_cast<char*>(&n), 8);
    out << head << std::string(16, '\0');
  };
  write_header(R"({"w":{"dtype":"F32","shape":[-1,-4],"data_offsets":[0,16]}})");
  check_error([&] { nn::load_safetensors(path); }, "tensor 'w' has a negative dimension in shape [-1,-4]");
  // 2^62 x 4 float32: more bytes than an int64 counts, refused before multiplying them out.
  write_header(R"({"w":{"dtype":"F32","shape":[4611686018427387904,4],"data_offsets":[0,0]}})");
  check_error([&] { nn::load_safetensors(path); }, "shape [4611686018427387904,4] is too large");
  std::remove(path.c_str());
}

BOOST_AUTO_TEST_CASE(set_data_rebinds_every_handle) {
  Net net;
  Tensor handle = net.scale;  // as a layer or an optimizer holds it
  net.scale.set_grad(ones({1}));
  Tensor fresh = full({1}, 3.0f);
  net.named_parameters()[0].second.set_data(fresh);
  BOOST_CHECK_EQUAL(handle.item(), 3.0f);
  BOOST_CHECK(handle.raw() == fresh.raw());
  BOOST_CHECK(handle.requires_grad() && handle.is_leaf());
  BOOST_CHECK(!handle.grad().defined());
  check_error([&] { handle.set_data(zeros({2})); }, "set_data: source [2] float32 for tensor [1]");
  check_error([&] { handle.set_data(zeros({1}, DType::i64)); }, "int64");
}

BOOST_AUTO_TEST_CASE(to_cpu_is_a_no_op_and_handles_alias) {
  Net net;
  std::vector<const void*> before;
  std::vector<std::vector<float>> values;
  for (auto& [n, t] : net.state_dict()) {
    before.push_back(t.raw());
    values.push_back(t.to_vector());
  }
  net.to(Device::cpu);
  auto after = net.state_dict();
  for (size_t i = 0; i < after.size(); ++i) {
    BOOST_CHECK(after[i].second.raw() == before[i]);
    BOOST_CHECK(after[i].second.to_vector() == values[i]);
    BOOST_CHECK(after[i].second.device() == Device::cpu);
  }
  BOOST_CHECK(net.scale.same(after[0].second));
  BOOST_CHECK(net.layers->operator[](1).proj->weight.same(net.named_parameters()[5].second));
}

// Without a GPU, a CUDA move fails before touching anything and names CUDA.
boost::test_tools::assertion_result no_cuda(boost::unit_test::test_unit_id) {
  boost::test_tools::assertion_result r(!cuda::available());
  r.message() << "a CUDA device is present";
  return r;
}

BOOST_AUTO_TEST_CASE(to_cuda_without_a_gpu_throws, *boost::unit_test::precondition(no_cuda)) {
  Net net;
  check_error([&] { net.to(Device::cuda); }, "Module::to(cuda)");
  check_error([&] { net.to(Device::cuda); }, cuda::built() ? "no CUDA device" : "no CUDA backend");
  for (auto& [n, t] : net.state_dict()) BOOST_CHECK(t.device() == Device::cpu);
}
