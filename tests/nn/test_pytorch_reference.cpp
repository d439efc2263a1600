// Whole encoders and the Transformer decoder against PyTorch: scripts/nn_reference.py builds
// ESPnet-style Conformer and Branchformer encoders, scripts/decoder_reference.py an
// ESPnet-style Transformer decoder, in PyTorch with random weights, and stores their
// state_dict, inputs and outputs in tests/data/nn/*.safetensors. Loading the state_dict
// strictly checks that every parameter and buffer name and shape maps one-to-one; the outputs
// check the numbers.
#include <boost/test/unit_test.hpp>

#include "common/encoder_testing.h"
#include "common/gradcheck.h"
#include "nn/encoder.h"
#include "nn/masks.h"
#include "nn/transformer_decoder.h"

using namespace ag;

namespace {
struct Reference {
  nn::NamedTensors model;
  std::map<std::string, Tensor> tensors;  // input.*, expected.*
  nn::Metadata meta;
};

Reference load_reference(const std::string& name) {
  auto file = nn::load_safetensors(std::string(LATENTASR_SOURCE_DIR) + "/tests/data/nn/" + name +
                                   ".safetensors");
  Reference r{{}, {}, file.metadata};
  for (auto& [key, t] : file.tensors) {
    if (key.rfind("model.", 0) == 0)
      r.model.emplace_back(key.substr(6), t);
    else
      r.tensors[key] = t;
  }
  return r;
}

// The sizes scripts/nn_reference.py uses.
nn::EncoderConfig config_of(const nn::Metadata& meta) {
  nn::EncoderConfig c = testing::tiny_encoder_config(meta.at("type"),
                                                     meta.at("positional_encoding") == "relative");
  c.merge = meta.at("merge");
  c.causal = meta.count("causal") > 0;
  return c;
}

int64_t meta_int(const nn::Metadata& meta, const std::string& key, int64_t fallback) {
  return meta.count(key) ? std::stoll(meta.at(key)) : fallback;
}
}  // namespace

// Outputs in eval and train mode, and the gradient of every parameter in train mode.
BOOST_AUTO_TEST_CASE(encoders_match_pytorch) {
  for (std::string name : {"conformer_relative", "conformer_absolute", "branchformer_relative_concat",
                           "branchformer_relative_learned_ave", "conformer_relative_causal_chunk"}) {
    BOOST_TEST_CONTEXT(name) {
      Reference ref = load_reference(name);
      nn::Encoder enc(config_of(ref.meta));
      enc.load_state_dict(ref.model);  // strict: same names, same shapes, nothing left over
      const std::vector<int64_t> lengths = ref.tensors.at("input.lengths").to_int_vector();
      const Tensor feats = ref.tensors.at("input.feats");
      const int64_t chunk = meta_int(ref.meta, "chunk_size", 0);
      const int64_t left = meta_int(ref.meta, "left_chunks", -1);
      enc.eval();
      auto eval_out = enc.forward(feats, lengths, chunk, left);
      BOOST_CHECK(eval_out.lengths == ref.tensors.at("expected.lengths").to_int_vector());
      BOOST_CHECK_LE(testing::max_abs_diff(eval_out.out, ref.tensors.at("expected.out_eval")), 1e-5f);
      enc.train();  // batch statistics in the batch norms (dropout is 0)
      Tensor out = enc.forward(feats, lengths, chunk, left).out;
      BOOST_CHECK_LE(testing::max_abs_diff(out, ref.tensors.at("expected.out_train")), 1e-5f);
      sum(out * ref.tensors.at("input.grad_weights")).backward();
      for (auto& [key, p] : enc.named_parameters()) {
        const Tensor& expected = ref.tensors.at("expected.grad." + key);
        BOOST_TEST_CONTEXT(key) {
          BOOST_CHECK_LE(testing::max_abs_diff(p.grad(), expected),
                         1e-4f * std::max(1.0f, testing::max_abs(expected)));
        }
      }
    }
  }
}

// The other direction: an encoder initialized here, saved with Module::save, loads back
// bit-exactly; with LATENTASR_EXPORT_DIR set, the file (weights under "model.", the input
// and this library's eval output) is kept there for scripts/load_in_pytorch.py, which loads
// it into the PyTorch encoder by name and compares the outputs.
BOOST_AUTO_TEST_CASE(encoder_saved_here_round_trips_for_pytorch) {
  const char* dir = std::getenv("LATENTASR_EXPORT_DIR");
  for (std::string name : {"conformer_relative", "branchformer_relative_concat"}) {
    BOOST_TEST_CONTEXT(name) {
      Reference ref = load_reference(name);
      manual_seed(7);
      nn::Encoder enc(config_of(ref.meta));
      enc.eval();
      const Tensor feats = ref.tensors.at("input.feats");
      const std::vector<int64_t> lengths = ref.tensors.at("input.lengths").to_int_vector();
      Tensor out = enc.forward(feats, lengths).out;
      nn::NamedTensors file;
      for (auto& [key, t] : enc.state_dict()) file.emplace_back("model." + key, t);
      file.emplace_back("input.feats", feats);
      file.emplace_back("input.lengths", ref.tensors.at("input.lengths"));
      file.emplace_back("expected.out_eval", out);
      std::string path = std::string(dir ? dir : "/tmp") + "/exported_" + name + ".safetensors";
      nn::save_safetensors(path, file, ref.meta);
      nn::Encoder back(config_of(ref.meta));
      nn::NamedTensors weights;
      for (auto& [key, t] : nn::load_safetensors(path).tensors)
        if (key.rfind("model.", 0) == 0) weights.emplace_back(key.substr(6), t);
      back.load_state_dict(weights);
      back.eval();
      BOOST_CHECK_EQUAL(testing::max_abs_diff(back.forward(feats, lengths).out, out), 0.0f);
      if (!dir) std::remove(path.c_str());
    }
  }
}

// The Transformer decoder against scripts/decoder_reference.py's ESPnet-style PyTorch one:
// names and shapes (strict load), logits, and every parameter's gradient.
BOOST_AUTO_TEST_CASE(transformer_decoder_matches_pytorch) {
  Reference ref = load_reference("transformer_decoder");
  nn::DecoderConfig c;
  c.vocab_size = std::stoll(ref.meta.at("vocab_size"));
  c.num_layers = std::stoll(ref.meta.at("num_layers"));
  c.ffn_dim = std::stoll(ref.meta.at("ffn_dim"));
  c.d_model = 8;
  c.dropout = c.positional_dropout = 0;
  for (nn::AttentionConfig* a : {&c.self_attention, &c.src_attention}) {
    a->num_heads = 2;
    a->dropout = 0;
  }
  nn::TransformerDecoder dec(c);
  dec.load_state_dict(ref.model);  // strict: same names, same shapes, nothing left over
  dec.eval();
  const Tensor memory = ref.tensors.at("input.memory");
  const std::vector<int64_t> lengths = ref.tensors.at("input.lengths").to_int_vector();
  const Tensor mask = nn::attention_mask(ref.tensors.at("input.memory_lengths").to_int_vector(),
                                         memory.size(1), 0, -1);
  Tensor logits = dec.forward(ref.tensors.at("input.tokens"), lengths, memory, mask);
  const Tensor& expected = ref.tensors.at("expected.logits");
  // Padded positions are never read; compare the real ones.
  for (int64_t b = 0; b < 2; ++b) {
    auto real = [&](const Tensor& t) { return narrow(narrow(t, 0, b, 1), 1, 0, lengths[b]); };
    BOOST_CHECK_LE(testing::max_abs_diff(real(logits), real(expected)),
                   1e-5f * std::max(1.0f, testing::max_abs(expected)));
  }
  sum(logits * ref.tensors.at("input.grad_weights")).backward();
  for (auto& [key, p] : dec.named_parameters()) {
    const Tensor& g = ref.tensors.at("expected.grad." + key);
    BOOST_TEST_CONTEXT(key) {
      BOOST_CHECK_LE(testing::max_abs_diff(p.grad(), g), 1e-4f * std::max(1.0f, testing::max_abs(g)));
    }
  }
}
