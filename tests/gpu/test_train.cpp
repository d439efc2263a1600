// Training on the GPU: a small Conformer CTC model (2 blocks, relative positions, batch-norm
// conv modules, dropout 0) takes three Adam steps on the same batch on both devices; the loss
// of every step agrees within 1e-3 relative and so do the parameters and buffers after.
// Also: Module::to keeps the handles, optimizer state lives on the GPU, the pinned upload,
// and a checkpoint written from the GPU model loads on the CPU.
#include <unistd.h>
#include <boost/test/unit_test.hpp>

#include <cmath>
#include <cstdio>
#include <filesystem>

#include "asr/model/asr_model.h"
#include "asr/model/device.h"
#include "compare.h"
#include "nn/optim.h"

using namespace ag;

namespace {

constexpr int64_t kVocab = 12, kBins = 20, kSteps = 3;

nn::EncoderConfig small_conformer() {
  nn::EncoderConfig c;
  c.input_dim = kBins;
  c.d_model = 64;
  c.num_layers = 2;
  c.attention.num_heads = 4;
  c.attention.d_model = 64;
  c.attention.relative = true;
  c.attention.dropout = 0;
  c.ffn_dim = 128;
  c.conv_kernel = 7;
  c.dropout = 0;
  c.positional_dropout = 0;
  return c;
}

struct Batch {
  Tensor feats;                              // [B, T, kBins] on the CPU
  std::vector<int64_t> lengths;              // [B]
  std::vector<std::vector<int64_t>> targets;  // labels in [1, kVocab)
};

Batch make_batch() {
  manual_seed(21);
  return {normal({3, 64, kBins}), {64, 51, 37}, {{1, 2, 3, 4, 5}, {6, 6, 7}, {11, 2, 9, 10}}};
}

// kSteps Adam steps of CTC (summed over the batch / B) on `device`; returns each step's loss.
// eps 1e-5: Adam's first update is lr * g / (|g| + eps), which turns float32 noise in
// near-zero gradient components into full-size steps of either sign with the default 1e-8.
std::vector<float> train(asr::AsrModel& model, Device device, const Batch& batch) {
  model.to(device);
  model.train();
  nn::Adam opt(model.named_parameters(), 1e-3f, 0.9f, 0.999f, 1e-5f);
  asr::FeatureUploader upload(device);
  std::vector<float> losses;
  for (int64_t step = 0; step < kSteps; ++step) {
    nn::EncoderOutput out = model.logits(upload(batch.feats), batch.lengths);
    BOOST_REQUIRE(out.out.device() == device);
    CtcResult ctc = ctc_loss(out.out, out.lengths, batch.targets);
    for (bool f : ctc.feasible) BOOST_REQUIRE(f);
    Tensor loss = div(sum(ctc.nll), static_cast<float>(batch.lengths.size()));
    losses.push_back(loss.item());
    loss.backward();
    BOOST_CHECK(std::isfinite(nn::clip_grad_norm(opt.params(), 100.0f)));
    opt.step();
    opt.zero_grad();
  }
  for (auto& [name, t] : opt.state())
    if (name != "step") BOOST_CHECK_MESSAGE(t.device() == device, name << " is off the device");
  return losses;
}

// Two models with the same initial weights train on the CPU and on `device`: the losses of
// every step and the final parameters and buffers are compared.
void compare_training(Device device) {
  const Batch batch = make_batch();
  manual_seed(3);
  asr::AsrModel cpu(small_conformer(), kVocab);
  asr::AsrModel other(small_conformer(), kVocab);
  other.load_state_dict(cpu.state_dict());
  const std::vector<float> want = train(cpu, Device::cpu, batch);
  const std::vector<float> got = train(other, device, batch);
  for (int64_t s = 0; s < kSteps; ++s) {
    BOOST_TEST_MESSAGE("step " << s << ": loss cpu " << want[s] << ", " << device_name(device)
                               << " " << got[s]);
    BOOST_CHECK_MESSAGE(std::fabs(got[s] - want[s]) <= 1e-3f * std::fabs(want[s]),
                        "step " << s << ": loss " << got[s] << " vs cpu " << want[s]);
  }
  BOOST_CHECK(want.back() < want.front());  // it learns
  auto mine = other.state_dict(), ref = cpu.state_dict();
  for (size_t i = 0; i < ref.size(); ++i) {
    BOOST_CHECK_MESSAGE(mine[i].second.device() == device, mine[i].first << " left the device");
    gpu_testing::expect_close(mine[i].second, ref[i].second, 1e-3f, mine[i].first);
  }
}

}  // namespace

// The harness itself, on the CPU twice (runs everywhere; bit-identical by construction).
BOOST_AUTO_TEST_CASE(training_harness_on_cpu) { compare_training(Device::cpu); }

BOOST_AUTO_TEST_SUITE(train, *boost::unit_test::precondition(gpu_testing::cuda_present))

BOOST_AUTO_TEST_CASE(to_cuda_moves_in_place) {
  manual_seed(4);
  asr::AsrModel model(small_conformer(), kVocab);
  Tensor weight = model.ctc->ctc_lo->weight;  // a layer's handle
  const std::vector<float> before = weight.to_vector();
  nn::Adam opt(model.named_parameters(), 1e-3f);  // made before the move
  model.to(Device::cuda);
  BOOST_CHECK(weight.device() == Device::cuda && weight.requires_grad() && weight.is_leaf());
  BOOST_CHECK(weight.to_vector() == before);
  for (auto& [name, t] : model.state_dict())
    BOOST_CHECK_MESSAGE(t.device() == Device::cuda, name << " stayed on the CPU");
  for (auto& [name, p] : opt.params()) BOOST_CHECK(p.device() == Device::cuda);
  model.to(Device::cpu);
  BOOST_CHECK(weight.device() == Device::cpu && weight.to_vector() == before);
}

BOOST_AUTO_TEST_CASE(three_adam_steps_match_the_cpu) { compare_training(Device::cuda); }

BOOST_AUTO_TEST_CASE(checkpoint_from_the_gpu_loads_on_the_cpu) {
  manual_seed(5);
  asr::AsrModel gpu(small_conformer(), kVocab);
  gpu.to(Device::cuda);
  const std::string path = (std::filesystem::temp_directory_path() /
                            ("latentasr_gpu_ckpt_" + std::to_string(getpid()) + ".safetensors"))
                               .string();
  gpu.save(path);
  manual_seed(6);
  asr::AsrModel cpu(small_conformer(), kVocab);
  cpu.load(path);
  auto a = gpu.state_dict(), b = cpu.state_dict();
  for (size_t i = 0; i < a.size(); ++i)
    BOOST_CHECK_MESSAGE(a[i].second.to_vector() == b[i].second.to_vector(), a[i].first);
  // And back: a CPU checkpoint into the GPU model.
  gpu.load(path);
  BOOST_CHECK(gpu.ctc->ctc_lo->weight.device() == Device::cuda);
  std::remove(path.c_str());
}

BOOST_AUTO_TEST_SUITE_END()
