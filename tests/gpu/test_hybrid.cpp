// A hybrid CTC/attention model on the GPU against the CPU: the attention loss (teacher forcing,
// label smoothing, the embedding's and the gather's backward) and every parameter's gradient,
// and joint CTC/attention decoding and attention rescoring (the decoder's caches selected per
// beam on the device) finding the same hypotheses. The harness also runs CPU against CPU.
#include <boost/test/unit_test.hpp>

#include "asr/model/hybrid_decode.h"
#include "compare.h"

using namespace ag;

namespace {

constexpr int64_t kVocab = 9, kBins = 12;

asr::AsrModel make_model() {
  nn::EncoderConfig c;
  c.input_dim = kBins;
  c.d_model = 32;
  c.num_layers = 2;
  c.attention = {"mha", 32, 4, 0, 0, 0, 0.0f, true};
  c.ffn_dim = 64;
  c.conv_kernel = 5;
  c.dropout = c.positional_dropout = 0;
  nn::DecoderConfig d;
  d.num_layers = 2;
  d.ffn_dim = 48;
  d.dropout = d.positional_dropout = 0;
  d.self_attention = {"mla", 32, 4, 8, 0, 0, 0.0f, false};
  d.src_attention = {"gqa", 32, 4, 0, 0, 2, 0.0f, false};
  manual_seed(31);
  return asr::AsrModel(c, kVocab, d);
}

const std::vector<std::vector<int64_t>> kTargets{{1, 2, 3, 4}, {5, 5, 6}, {8}};

void compare(Device device) {
  asr::AsrModel cpu = make_model(), other = make_model();
  other.load_state_dict(cpu.state_dict());
  other.to(device);
  manual_seed(32);
  const Tensor feats = normal({3, 40, kBins});
  const std::vector<int64_t> lengths{40, 33, 21};
  // Training: the attention loss and its gradients.
  for (asr::AsrModel* m : {&cpu, &other}) {
    m->train();
    const Device dev = m == &cpu ? Device::cpu : device;
    nn::EncoderOutput enc = m->encoder->forward(to_device(feats, dev), lengths);
    asr::AsrModel::AttentionLoss a = m->attention_loss(enc.out, enc.lengths, kTargets, 0.1f);
    BOOST_REQUIRE(a.loss.device() == dev);
    a.loss.backward();
  }
  auto want = cpu.named_parameters(), got = other.named_parameters();
  for (size_t i = 0; i < want.size(); ++i) {
    if (!want[i].second.grad().defined()) continue;  // the CTC head takes no attention gradient
    gpu_testing::expect_close(got[i].second.grad(), want[i].second.grad(), 1e-3f,
                              "grad " + want[i].first);
  }
  // Decoding: the same hypotheses from both searches.
  cpu.eval();
  other.eval();
  asr::HybridDecodeOptions o;
  o.beam_size = 4;
  for (int64_t b = 0; b < 3; ++b) {
    std::vector<asr::Hypothesis> found;
    for (asr::AsrModel* m : {&cpu, &other}) {
      NoGradGuard no_grad;
      const Device dev = m == &cpu ? Device::cpu : device;
      Tensor one = narrow(narrow(to_device(feats, dev), 0, b, 1), 1, 0, lengths[b]);
      nn::EncoderOutput enc = m->encoder->forward(one, {lengths[b]});
      Tensor lp = to_device(log_softmax(m->ctc_logits(enc.out), -1), Device::cpu);
      lp = reshape(lp, {lp.size(1), kVocab});
      found.push_back(asr::joint_decode(*m, enc.out, lp, enc.lengths[0], o));
      found.push_back(asr::attention_rescoring(*m, enc.out, lp, enc.lengths[0], o));
    }
    BOOST_CHECK(found[0].tokens == found[2].tokens);
    BOOST_CHECK(found[1].tokens == found[3].tokens);
    BOOST_CHECK_CLOSE(found[0].score, found[2].score, 0.1);
    BOOST_CHECK_CLOSE(found[1].score, found[3].score, 0.1);
  }
}

}  // namespace

BOOST_AUTO_TEST_CASE(hybrid_harness_on_cpu) { compare(Device::cpu); }

BOOST_AUTO_TEST_SUITE(hybrid, *boost::unit_test::precondition(gpu_testing::cuda_present))
BOOST_AUTO_TEST_CASE(hybrid_loss_gradients_and_decoding_match_the_cpu) { compare(Device::cuda); }
BOOST_AUTO_TEST_SUITE_END()
