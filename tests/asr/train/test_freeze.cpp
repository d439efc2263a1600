// train.trainable_param / train.freeze_param: the name patterns, frozen parameters unchanged
// by optimizer steps while the trained ones move (only the latent projections of an MLA
// model; a frozen prefix), and the refusals (a pattern matching nothing, nothing left to train,
// an empty pattern in the config).
#include <boost/test/unit_test.hpp>

#include <map>

#include "asr/config/config_schema.h"
#include "asr/model/asr_model.h"
#include "asr/train/freeze.h"
#include "asr/train/optim_factory.h"
#include "autograd/ops.h"
#include "autograd/random.h"
#include "common/error_of.h"

namespace {

asr::Config mla_config() {
  asr::Config c;
  c.model.input_dim = 20;
  c.model.d_model = 32;
  c.model.num_layers = 2;
  c.model.attention.num_heads = 4;
  c.model.attention.type = "mla_simple";
  c.model.attention.latent_dim = 8;
  c.model.ffn_dim = 64;
  c.model.conv_kernel = 5;
  c.data.specaugment.freq_mask_width = 10;  // within input_dim
  c.model.dropout = c.model.positional_dropout = c.model.attention.dropout = 0;
  asr::sync_attention(c.model);
  return c;
}

std::map<std::string, std::vector<float>> snapshot(const asr::AsrModel& m) {
  std::map<std::string, std::vector<float>> values;
  for (const auto& [name, t] : m.named_parameters()) values[name] = t.to_vector();
  return values;
}

// Three Adam steps of the CTC loss on a random batch, over `trained` only.
void train_steps(asr::AsrModel& m, const nn::NamedTensors& trained) {
  asr::OptimConfig o;
  o.type = "adam";
  o.lr = 1e-2f;
  auto opt = asr::make_optimizer(o, trained);
  ag::manual_seed(5);
  const ag::Tensor feats = ag::normal({2, 60, 20});
  for (int step = 0; step < 3; ++step) {
    nn::EncoderOutput out = m.logits(feats, {60, 48});
    ag::sum(ag::ctc_loss(out.out, out.lengths, {{1, 2, 3}, {4, 5}}).nll).backward();
    opt->step();
    opt->zero_grad();
  }
}

bool is_latent_projection(const std::string& name) {
  for (const char* part : {".linear_dkv.", ".linear_uk.", ".linear_uv."})
    if (name.find(part) != std::string::npos) return true;
  return false;
}

bool has(const std::string& text, const std::string& part) {
  bool found = text.find(part) != std::string::npos;
  if (!found) BOOST_TEST_MESSAGE("'" << part << "' not in: " << text);
  return found;
}

}  // namespace

BOOST_AUTO_TEST_CASE(patterns_match_names_and_dotted_prefixes) {
  const std::string name = "encoder.layers.3.self_attn.linear_dkv.weight";
  BOOST_CHECK(asr::matches_param(name, name));
  BOOST_CHECK(asr::matches_param("encoder.layers.3", name));
  BOOST_CHECK(asr::matches_param("encoder", name));
  BOOST_CHECK(asr::matches_param("*.linear_dkv", name));
  BOOST_CHECK(asr::matches_param("encoder.layers.*.self_attn", name));
  BOOST_CHECK(!asr::matches_param("encoder.layers.3.self_att", name));  // not at a dot
  BOOST_CHECK(!asr::matches_param("encoder.layers.1", name));
  BOOST_CHECK(!asr::matches_param("*.linear_uk", name));
  BOOST_CHECK(!asr::matches_param("layers.3", name));  // prefixes start at the beginning
}

BOOST_AUTO_TEST_CASE(only_the_latent_projections_train) {
  ag::manual_seed(3);
  asr::AsrModel m(mla_config().model, 8);
  m.train();
  asr::TrainConfig t;
  t.trainable_param = {"*.linear_dkv", "*.linear_uk", "*.linear_uv"};
  const nn::NamedTensors trained = asr::trainable_parameters(m.named_parameters(), t);
  BOOST_CHECK_EQUAL(trained.size(), 2u * 5u);  // per layer dkv.weight, uk.weight/bias, uv.*
  const auto before = snapshot(m);
  train_steps(m, trained);
  const auto after = snapshot(m);
  int moved = 0, frozen = 0;
  for (const auto& [name, values] : before) {
    BOOST_TEST_CONTEXT(name) {
      if (is_latent_projection(name)) {
        // The weights move; linear_uk.bias may not (softmax cancels a key bias: its gradient
        // is zero up to rounding).
        if (name.ends_with(".weight")) {
          BOOST_CHECK(values != after.at(name));
          ++moved;
        }
      } else {
        BOOST_CHECK(values == after.at(name));  // bit for bit
        ++frozen;
      }
    }
  }
  BOOST_CHECK_EQUAL(moved, 6);
  BOOST_CHECK_GT(frozen, 20);
  for (const auto& [name, p] : m.named_parameters())
    if (!is_latent_projection(name)) BOOST_CHECK(!p.requires_grad());
}

BOOST_AUTO_TEST_CASE(frozen_prefixes_stay_the_rest_trains) {
  ag::manual_seed(3);
  asr::AsrModel m(mla_config().model, 8);
  m.train();
  asr::TrainConfig t;
  t.freeze_param = {"encoder.embed", "encoder.layers.0"};
  const nn::NamedTensors trained = asr::trainable_parameters(m.named_parameters(), t);
  const auto before = snapshot(m);
  train_steps(m, trained);
  const auto after = snapshot(m);
  for (const auto& [name, values] : before) {
    const bool frozen = name.starts_with("encoder.embed.") || name.starts_with("encoder.layers.0.");
    if (!frozen && name.ends_with(".linear_uk.bias")) continue;  // a zero gradient, as above
    BOOST_TEST_CONTEXT(name) { BOOST_CHECK_EQUAL(values == after.at(name), frozen); }
  }
}

BOOST_AUTO_TEST_CASE(bad_patterns_are_refused) {
  asr::AsrModel m(mla_config().model, 8);
  asr::TrainConfig t;
  t.trainable_param = {"*.linear_dkv", "*.linear_dq"};  // mla_simple has no low-rank query
  BOOST_CHECK(has(testing::error_of([&] { asr::trainable_parameters(m.named_parameters(), t); }),
                  "train.trainable_param: pattern '*.linear_dq' matches no parameter"));
  t.trainable_param = {};
  t.freeze_param = {"encoder.layer"};  // a prefix must end at a dot
  BOOST_CHECK(has(testing::error_of([&] { asr::trainable_parameters(m.named_parameters(), t); }),
                  "train.freeze_param: pattern 'encoder.layer' matches no parameter"));
  t.freeze_param = {"encoder", "ctc"};
  BOOST_CHECK(has(testing::error_of([&] { asr::trainable_parameters(m.named_parameters(), t); }),
                  "leave no parameter to train"));

  const std::string yaml = asr::to_yaml(mla_config());
  BOOST_CHECK(has(testing::error_of([&] {
                    asr::parse_config(yaml, "c", {"train.freeze_param=[encoder, '']"});
                  }),
                  "'train.freeze_param' holds an empty pattern"));
  BOOST_CHECK(has(testing::error_of([&] {
                    asr::parse_config(yaml, "c", {"train.trainable_param=linear_dkv"});
                  }),
                  "'train.trainable_param' must be a list of strings"));
  const asr::Config back =
      asr::parse_config(yaml, "c", {"train.trainable_param=['*.linear_dkv', '*.linear_uk']"});
  BOOST_CHECK(back.train.trainable_param == (std::vector<std::string>{"*.linear_dkv", "*.linear_uk"}));
  BOOST_CHECK(asr::parse_config(asr::to_yaml(back), "round trip") == back);
}
