// The YAML experiment config: shipped files, defaults, overrides, the to_yaml round trip, every
// kind of bad config (the message must name the file, the key and the line or override), and
// the optimizer / schedule factories.
#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <map>
#include <set>
#include <sstream>

#include "asr/config/config.h"
#include "asr/config/config_schema.h"
#include "asr/train/optim_factory.h"
#include "autograd/tensor.h"

namespace fs = std::filesystem;
using asr::Config;
using asr::ConfigError;

namespace {

const fs::path kSource = LATENTASR_SOURCE_DIR;

// A folder of bad configs for this process, removed at exit.
struct TempDir {
  fs::path path = fs::temp_directory_path() / ("asr_config_test_" + std::to_string(getpid()));
  TempDir() { fs::create_directories(path); }
  ~TempDir() { fs::remove_all(path); }
};

std::string write_temp(const std::string& name, const std::string& text) {
  static TempDir dir;
  fs::path p = dir.path / name;
  std::ofstream(p) << text;
  return p.string();
}

// Runs f, which must throw ConfigError whose message holds every fragment.
template <class F>
void expect_error(F f, std::initializer_list<std::string> fragments) {
  try {
    f();
  } catch (const ConfigError& e) {
    std::string msg = e.what();
    for (const auto& fragment : fragments)
      BOOST_CHECK_MESSAGE(msg.find(fragment) != std::string::npos,
                          "message '" << msg << "' lacks '" << fragment << "'");
    return;
  }
  BOOST_ERROR("no ConfigError thrown (expected one mentioning '" << *fragments.begin() << "')");
}

// Writes `yaml` to a temp file and expects load_config to fail naming the file and `fragments`.
void expect_bad_file(const std::string& name, const std::string& yaml,
                     std::initializer_list<std::string> fragments) {
  std::string path = write_temp(name, yaml);
  BOOST_TEST_CONTEXT("config " << name) {
    expect_error([&] { asr::load_config(path); }, {path + ": "});
    expect_error([&] { asr::load_config(path); }, fragments);
  }
}

nn::NamedTensors one_param() {
  return {{"w", ag::from_vector({1.0f, 2.0f}, {2}).set_requires_grad(true)}};
}

}  // namespace

// The reference recipes' configs: recipes/librispeech_100/conf/conformer_<attention>.yaml and
// recipes/tedlium2/conf/branchformer_<attention>.yaml, each naming its recipe's data folder.
BOOST_AUTO_TEST_CASE(every_shipped_config_loads) {
  const std::map<std::string, std::string> recipe_of = {{"conformer", "librispeech_100"},
                                                        {"branchformer", "tedlium2"}};
  std::set<std::string> names;
  for (const auto& [encoder, recipe] : recipe_of) {
    for (const auto& entry : fs::directory_iterator(kSource / "recipes" / recipe / "conf")) {
      std::string name = entry.path().stem().string();
      if (entry.path().extension() != ".yaml" || name.rfind(encoder + "_", 0) != 0) continue;
      names.insert(name);
      BOOST_TEST_CONTEXT(entry.path().string()) {
        Config c = asr::load_config(entry.path().string());
        std::string attention = name.substr(name.find('_') + 1);
        BOOST_TEST(c.model.type == encoder);
        BOOST_TEST(c.model.attention.type == attention);
        BOOST_TEST(c.model.d_model == 256);
        BOOST_TEST(c.model.attention.d_model == 256);
        BOOST_TEST(c.model.attention.num_heads == 4);
        BOOST_TEST(c.model.conv_kernel == 31);
        BOOST_TEST(c.model.num_layers == (encoder == "conformer" ? 12 : 24));
        if (attention == "mla" || attention == "mla_simple") BOOST_TEST(c.model.attention.latent_dim == 256);
        if (attention == "gqa") BOOST_TEST(c.model.attention.num_kv_heads == 2);
        BOOST_TEST(c.model.attention.relative == (attention != "linear"));
        BOOST_TEST(c.data.train == "data/" + recipe + "/train");
        BOOST_TEST(c.data.dev == "data/" + recipe + "/dev");
        BOOST_TEST(c.data.tokenizer == "unigram");
        BOOST_TEST(c.data.vocab_size == (encoder == "conformer" ? 5000 : 500));
      }
    }
  }
  std::set<std::string> expected;
  for (std::string e : {"conformer", "branchformer"})
    for (std::string a : {"mha", "mla", "mla_simple", "gqa", "linear"}) expected.insert(e + "_" + a);
  BOOST_TEST(names == expected, boost::test_tools::per_element());
}

// recipes/librispeech_100/libri_mp3.sh's config: the AN4 demo's model on libri-mp3, characters.
BOOST_AUTO_TEST_CASE(libri_mp3_config_loads) {
  Config c = asr::load_config((kSource / "recipes/librispeech_100/conf/libri_mp3.yaml").string());
  BOOST_TEST(c.model.d_model == 128);
  BOOST_TEST(c.model.num_layers == 8);
  BOOST_TEST(c.data.train == "data/libri_mp3/train");
  BOOST_TEST(c.data.tokenizer == "char");
  BOOST_TEST(c.train.max_steps == c.schedule.total_steps);
}

// The AN4 recipes load and validate; the streaming one trains a streaming model.
BOOST_AUTO_TEST_CASE(every_an4_recipe_loads) {
  for (std::string name : {"demo", "finetune", "long", "stream"}) {
    BOOST_TEST_CONTEXT("recipes/an4/" << name << ".yaml") {
      Config c = asr::load_config((kSource / "recipes" / "an4" / (name + ".yaml")).string());
      BOOST_TEST(c.model.d_model == 128);
      BOOST_TEST(c.model.causal == (name == "stream"));
      BOOST_TEST(c.train.dynamic_chunk == (name == "stream"));
      BOOST_TEST(c.model.conv_norm == (name == "stream" ? "layer_norm" : "batch_norm"));
    }
  }
}

BOOST_AUTO_TEST_CASE(defaults_are_the_espnet_librispeech100_conformer) {
  Config c;
  BOOST_CHECK_NO_THROW(asr::validate(c));
  BOOST_TEST(c.seed == 2022);
  BOOST_TEST(c.model.type == "conformer");
  BOOST_TEST(c.model.num_layers == 12);
  BOOST_TEST(c.model.ffn_dim == 1024);
  BOOST_TEST(c.model.positional_encoding == "relative");
  BOOST_TEST(c.model.attention.type == "mha");
  BOOST_TEST(c.model.attention.dropout == 0.1f);
  BOOST_TEST(c.optim.type == "adam");
  BOOST_TEST(c.optim.lr == 0.002f);
  BOOST_TEST(c.optim.weight_decay == 1e-6f);
  BOOST_TEST(c.optim.clip_grad_norm == 5.0f);
  BOOST_TEST(c.schedule.type == "warmuplr");
  BOOST_TEST(c.schedule.warmup_steps == 15000);
  BOOST_TEST(c.data.specaugment.num_time_masks == 5);
  BOOST_TEST(c.train.max_epochs == 70);
  // An empty file, or one with empty sections, is all defaults.
  BOOST_TEST((asr::parse_config("", "empty.yaml") == c));
  BOOST_TEST((asr::parse_config("model:\ntrain:\n", "sections.yaml") == c));
}

BOOST_AUTO_TEST_CASE(overrides_set_nested_keys_lists_and_scalars) {
  std::string path = (kSource / "recipes/librispeech_100/conf/conformer_mla.yaml").string();
  Config c = asr::load_config(path, {"model.attention_kwargs.latent_dim=128", "optim.lr=1e-3",
                                     "optim.betas=[0.8, 0.95]", "data.cmvn=false",
                                     "data.train=/data/libri/train", "model.d_model=512",
                                     "model.positional_encoding=absolute", "seed=7", "seed=8"});
  BOOST_TEST(c.model.attention.latent_dim == 128);
  BOOST_TEST(c.optim.lr == 1e-3f);
  BOOST_TEST(c.optim.betas[0] == 0.8f);
  BOOST_TEST(c.optim.betas[1] == 0.95f);
  BOOST_TEST(!c.data.cmvn);
  BOOST_TEST(c.data.train == "/data/libri/train");
  BOOST_TEST(c.model.d_model == 512);
  BOOST_TEST(c.model.attention.d_model == 512);  // follows model.d_model
  BOOST_TEST(!c.model.attention.relative);       // follows model.positional_encoding
  BOOST_TEST(c.seed == 8);                       // the later override wins
  BOOST_TEST(c.model.attention.type == "mla");   // the file's other keys stay
}

BOOST_AUTO_TEST_CASE(bad_overrides_name_the_key_and_the_override) {
  std::string path = (kSource / "recipes/librispeech_100/conf/conformer_mha.yaml").string();
  auto load = [&](std::string o) { return [=] { asr::load_config(path, {o}); }; };
  expect_error(load("optim.lr"), {path, "override 'optim.lr' is not of the form section.key=value"});
  expect_error(load("=3"), {path, "override '=3'"});
  expect_error(load("optim.lrr=1"), {path, "unknown key 'optim.lrr'", "override 'optim.lrr=1'",
                                     "did you mean 'optim.lr'"});
  expect_error(load("model.lr=1"), {"unknown key 'model.lr'", "did you mean 'optim.lr'"});
  expect_error(load("model.attention_kwargs=3"), {"'model.attention_kwargs' is a section"});
  expect_error(load("model.d_model=abc"),
               {path, "'model.d_model' must be an integer, got 'abc'", "override 'model.d_model=abc'"});
  expect_error(load("optim.betas=0.9"), {"'optim.betas' must be a list of 2 numbers, got '0.9'"});
  expect_error(load("optim.betas=[0.9]"), {"'optim.betas' must be a list of 2 numbers, got [0.9]"});
  expect_error(load("optim.lr="), {"'optim.lr' must be a finite number, got nothing"});
  expect_error(load("optim.betas=[0.9"), {"'optim.betas' is not valid YAML"});
  // A value that parses but fails validation still names the override.
  expect_error(load("model.num_heads=3"),
               {path, "'model.num_heads' (3) must divide 'model.d_model' (256)",
                "(override 'model.num_heads=3')"});
}

BOOST_AUTO_TEST_CASE(to_yaml_round_trips_every_key) {
  Config c;
  c.seed = 11;
  c.model.type = "branchformer";
  c.model.input_dim = 40;
  c.model.d_model = 96;
  c.model.num_layers = 3;
  c.model.attention.num_heads = 6;
  c.model.positional_encoding = "absolute";
  c.model.ffn_dim = 200;
  c.model.conv_kernel = 15;
  c.model.cgmlp_dim = 300;
  c.model.merge = "learned_ave";
  c.model.dropout = 0.15f;
  c.model.positional_dropout = 0.05f;
  c.model.attention.dropout = 0.3f;
  c.model.causal = true;
  c.model.activation_checkpointing = true;
  c.model.conv_norm = "layer_norm";
  c.model.attention.type = "gqa";
  c.model.attention.latent_dim = 48;
  c.model.latent_dims = {40, 48, 56};
  c.model.attention.q_latent_dim = 32;
  c.model.attention.num_kv_heads = 3;
  c.data = {"/tmp/train.jsonl", "/tmp/dev.jsonl", "unigram", 500, 20000, 1500, 5, 1, false,
            {false, 1, 13, 3, 0.1f, 0}, false, "keep"};
  c.optim = {"sgd", 3.7e-4f, {0.85f, 0.97f}, 1e-9f, 0.01f, 0.5f, true, 1.5f};
  c.schedule = {"cosine", 123, 4567, 1.25e-5f};
  c.train = {9, 100000, 2, 500, 10, 5, 3, "loss", "frame", "cuda", "nccl", 2, true, true, 8, 4, 1, 12.5f, 30, 45,
             {"encoder.embed"}, {"*.linear_dkv", "*.linear_uk"}, "/tmp/mha.safetensors", 0.5f, 2};
  nn::DecoderConfig& d = c.hybrid.decoder_conf;
  c.hybrid.decoder = "transformer";
  d.num_layers = 2;
  d.ffn_dim = 333;
  d.dropout = 0.2f;
  d.positional_dropout = 0.25f;
  d.self_attention = {"mla", 0, 3, 24, 16, 3, 0.05f, false};
  d.src_attention = {"gqa", 0, 3, 12, 8, 1, 0.15f, false};
  c.hybrid.ctc_weight = 0.5f;
  c.hybrid.lsm_weight = 0.2f;
  asr::sync_attention(c.model);
  asr::sync_decoder(c);

  // Every key differs from its default, so a key the writer or reader drops shows up.
  Config defaults;
  auto fields = asr::config_fields(c), default_fields = asr::config_fields(defaults);
  for (size_t i = 0; i < fields.size(); ++i) {
    Config one = defaults;
    std::visit([&](auto* p) { *std::get<decltype(p)>(asr::config_fields(one)[i].value) = *p; },
               fields[i].value);
    BOOST_TEST_CONTEXT("key " << fields[i].key) BOOST_TEST(!(one == defaults));
  }

  std::string yaml = asr::to_yaml(c);
  BOOST_TEST_MESSAGE(yaml);
  Config back = asr::parse_config(yaml, "round_trip.yaml");
  BOOST_TEST((back == c));
  BOOST_TEST(asr::to_yaml(back) == yaml);
  BOOST_TEST(yaml.find("betas: [0.85, 0.97]") != std::string::npos);
  BOOST_TEST((asr::parse_config(asr::to_yaml(defaults), "defaults.yaml") == defaults));
  // Non-ASCII UTF-8 text is kept, and comes back unchanged.
  const std::string path = "data/\xc3\xbc" "ber/\xe2\x98\x83\xf0\x9f\x8e\xa7";  // über/☃🎧
  Config utf8 = asr::parse_config("data:\n  train: \"" + path + "\"\n", "utf8.yaml");
  BOOST_TEST(utf8.data.train == path);
  BOOST_TEST((asr::parse_config(asr::to_yaml(utf8), "utf8_back.yaml") == utf8));
  // Every shipped config survives the trip too.
  for (const char* recipe : {"an4", "librispeech_100/conf", "tedlium2/conf"})
    for (const auto& entry : fs::directory_iterator(kSource / "recipes" / recipe)) {
      if (entry.path().extension() != ".yaml") continue;
      Config shipped = asr::load_config(entry.path().string());
      BOOST_TEST((asr::parse_config(asr::to_yaml(shipped), "x.yaml") == shipped));
    }
}

BOOST_AUTO_TEST_CASE(unknown_keys_at_any_depth_name_file_key_and_line) {
  expect_bad_file("typo.yaml", "seed: 1\nmodel:\n  d_model: 256\n  attenton_type: mla\n",
                  {"unknown key 'model.attenton_type' (line 4)",
                   "did you mean 'model.attention_type'?"});
  expect_bad_file("section.yaml", "trian:\n  max_epochs: 3\n", {"unknown key 'trian' (line 1)"});
  expect_bad_file("deep.yaml",
                  "model:\n  attention_type: mla\n  attention_kwargs:\n    latnt_dim: 64\n",
                  {"unknown key 'model.attention_kwargs.latnt_dim' (line 4)"});
  expect_bad_file("leaf_section.yaml", "data:\n  specaugment:\n    enabled: true\n    p: 1\n",
                  {"unknown key 'data.specaugment.p' (line 4)"});
  expect_bad_file("duplicate.yaml", "optim:\n  lr: 0.1\n  lr: 0.2\n",
                  {"duplicate key 'optim.lr' (line 3)"});
}

BOOST_AUTO_TEST_CASE(wrong_types_name_file_key_value_and_line) {
  expect_bad_file("int.yaml", "model:\n  d_model: abc\n",
                  {"'model.d_model' must be an integer, got 'abc' (line 2)"});
  expect_bad_file("int_float.yaml", "model:\n  num_layers: 1.5\n",
                  {"'model.num_layers' must be an integer, got '1.5' (line 2)"});
  expect_bad_file("float.yaml", "\noptim:\n  lr: fast\n",
                  {"'optim.lr' must be a finite number, got 'fast' (line 3)"});
  expect_bad_file("inf.yaml", "optim:\n  lr: .inf\n", {"'optim.lr' must be a finite number"});
  expect_bad_file("bool.yaml", "data:\n  cmvn: maybe\n",
                  {"'data.cmvn' must be true or false, got 'maybe' (line 2)"});
  expect_bad_file("string.yaml", "data:\n  train: [a, b]\n",
                  {"'data.train' must be a string (printable UTF-8), got [a, b] (line 2)"});
  // Control characters and bytes that are not UTF-8 are refused: to_yaml could not write them
  // back unchanged (fuzz_config's finding, tests/fuzz/corpus/config/regress_*).
  for (const std::string& bad : {std::string("data/\x01" "an4"), std::string("data/\xff\xff"),
                                std::string("data/\xc3"), std::string("data/\xc0\xaf"),
                                std::string("data/\xed\xa0\x80"), std::string("a\x7f")})
    expect_bad_file("utf8.yaml", "data:\n  train: \"" + bad + "\"\n",
                    {"'data.train' must be a string (printable UTF-8)", "(line 2)"});
  expect_bad_file("utf8_list.yaml", "train:\n  freeze_param: [\"a\x01\"]\n",
                  {"'train.freeze_param' must be a list of strings (printable UTF-8)"});
  expect_bad_file("list.yaml", "optim:\n  betas: [0.9, 0.98, 0.99]\n",
                  {"'optim.betas' must be a list of 2 numbers, got [0.9, 0.98, 0.99] (line 2)"});
  expect_bad_file("map.yaml", "model: 5\n", {"'model' must be a map of keys (line 1)"});
  expect_bad_file("top.yaml", "- a\n- b\n", {"the top level must be a map"});
  expect_bad_file("syntax.yaml", "model:\n  d_model: [1, 2\n", {"not valid YAML", "(line"});
  expect_error([] { asr::load_config("/nonexistent/x.yaml"); },
               {"/nonexistent/x.yaml: cannot read the config file"});
}

BOOST_AUTO_TEST_CASE(inconsistent_values_name_file_key_and_line) {
  expect_bad_file("heads.yaml", "model:\n  d_model: 256\n  num_heads: 3\n",
                  {"'model.num_heads' (3) must divide 'model.d_model' (256) (line 3)"});
  expect_bad_file("kv_heads.yaml",
                  "model:\n  attention_type: gqa\n  attention_kwargs:\n    num_kv_heads: 3\n",
                  {"'model.attention_kwargs.num_kv_heads' (3) must divide 'model.num_heads' (4) "
                   "(line 4)"});
  expect_bad_file("gqa_no_kv.yaml", "model:\n  attention_type: gqa\n",
                  {"'model.attention_kwargs.num_kv_heads' must be at least 1, got 0"});
  expect_bad_file("mla_no_latent.yaml", "model:\n  attention_type: mla\n",
                  {"'model.attention_kwargs.latent_dim' must be at least 1 for attention_type mla"});
  expect_bad_file("mla_simple_latent.yaml",
                  "model:\n  attention_type: mla_simple\n  attention_kwargs: {latent_dim: 0}\n",
                  {"'model.attention_kwargs.latent_dim' must be at least 1 for attention_type "
                   "mla_simple, got 0 (line 3)"});
  expect_bad_file("mla_simple_q_latent.yaml",
                  "model:\n  attention_type: mla_simple\n  attention_kwargs: {latent_dim: 4, "
                  "q_latent_dim: 2}\n",
                  {"'model.attention_kwargs.q_latent_dim' must be 0 for attention_type mla_simple "
                   "(mla with a full-rank query), got 2; use mla for a low-rank query (line 3)"});
  expect_bad_file("layers.yaml", "model:\n  num_layers: 0\n",
                  {"'model.num_layers' must be at least 1, got 0 (line 2)"});
  expect_bad_file("d_model.yaml", "model:\n  d_model: -4\n", {"'model.d_model' must be at least 1"});
  expect_bad_file("batch.yaml", "data:\n  batch_frames: 0\n", {"'data.batch_frames' must be at least 1"});
  expect_bad_file("dropout.yaml", "model:\n  dropout: 1.0\n",
                  {"'model.dropout' must lie in [0, 1), got 1 (line 2)"});
  expect_bad_file("att_dropout.yaml", "model:\n  attention_dropout: -0.1\n",
                  {"'model.attention_dropout' must lie in [0, 1)"});
  expect_bad_file("attention_enum.yaml", "model:\n  attention_type: mlx\n",
                  {"'model.attention_type' must be one of mha, mla, mla_simple, gqa, linear; got "
                   "'mlx' (line 2)"});
  expect_bad_file("encoder_enum.yaml", "model:\n  encoder: transformer\n",
                  {"'model.encoder' must be one of conformer, branchformer; got 'transformer'"});
  expect_bad_file("optim_enum.yaml", "optim:\n  type: rmsprop\n",
                  {"'optim.type' must be one of adam, adamw, sgd"});
  expect_bad_file("kernel.yaml", "model:\n  conv_kernel: 30\n", {"'model.conv_kernel' must be odd"});
  expect_bad_file("cgmlp.yaml", "model:\n  cgmlp_dim: 1023\n", {"'model.cgmlp_dim' must be even"});
  expect_bad_file("frames.yaml", "data:\n  min_frames: 500\n  max_frames: 400\n",
                  {"'data.min_frames' (500) must not exceed 'data.max_frames' (400) (line 2)"});
  expect_bad_file("batch_max.yaml", "data:\n  batch_frames: 1000\n",
                  {"'data.batch_frames' (1000) must be at least 'data.max_frames' (3000)"});
  expect_bad_file("freq_mask.yaml", "model: {input_dim: 20}\n",
                  {"'data.specaugment.freq_mask_width' (27) must not exceed 'model.input_dim' (20)"});
  expect_bad_file("vocab.yaml", "data:\n  tokenizer: bpe\n  vocab_size: 0\n",
                  {"'data.vocab_size' must be at least 2, got 0 (line 3)"});
  expect_bad_file("lr.yaml", "optim:\n  lr: 0\n", {"'optim.lr' must be a finite number > 0"});
  expect_bad_file("betas.yaml", "optim:\n  betas: [0.9, 1.0]\n", {"'optim.betas' must lie in [0, 1)"});
  expect_bad_file("nesterov.yaml", "optim:\n  nesterov: true\n",
                  {"'optim.nesterov' needs optim.type sgd and optim.momentum > 0 (line 2)"});
  expect_bad_file("warmup.yaml", "schedule:\n  warmup_steps: 0\n",
                  {"'schedule.warmup_steps' must be at least 1, got 0"});
  expect_bad_file("cosine.yaml", "schedule:\n  type: cosine\n  warmup_steps: 100\n",
                  {"'schedule.total_steps' (0) must exceed 'schedule.warmup_steps' (100)"});
  expect_bad_file("stop.yaml", "train:\n  max_epochs: 0\n",
                  {"'train.max_epochs' and 'train.max_steps' are both 0"});
  expect_bad_file("average.yaml", "train:\n  average_best: 11\n",
                  {"'train.average_best' (11) must not exceed 'train.keep_checkpoints' (10)"});
  expect_bad_file("chunk.yaml", "train:\n  dynamic_chunk: true\n",
                  {"'train.dynamic_chunk' needs model.causal: true"});
  expect_bad_file("left.yaml", "model:\n  causal: true\ntrain:\n  dynamic_left_chunk: true\n",
                  {"'train.dynamic_left_chunk' needs train.dynamic_chunk: true"});
  expect_bad_file("device.yaml", "train:\n  device: tpu\n", {"'train.device' must be one of cpu, cuda"});
  expect_bad_file("all_reduce.yaml", "train:\n  all_reduce: gloo\n",
                  {"'train.all_reduce' must be one of auto, mpi, nccl"});
  expect_bad_file("nccl.yaml", "train:\n  all_reduce: nccl\n",
                  {"'train.all_reduce' nccl needs train.device: cuda", "(line 2)"});
  expect_bad_file("minutes.yaml", "train:\n  checkpoint_every_minutes: -5\n",
                  {"'train.checkpoint_every_minutes' must be a finite number >= 0, got -5 (line 2)"});
  expect_bad_file("timeout.yaml", "train:\n  collective_timeout_s: -1\n",
                  {"'train.collective_timeout_s' must be a finite number >= 0, got -1 (line 2)"});
  expect_bad_file("seed.yaml", "seed: -1\n", {"'seed' must be at least 0, got -1 (line 1)"});
}

BOOST_AUTO_TEST_CASE(validate_checks_programmatic_configs) {
  Config c;
  c.model.d_model = 128;  // attention.d_model not synced
  expect_error([&] { asr::validate(c); }, {"config: 'model.d_model'", "sync_attention"});
  asr::sync_attention(c.model);
  BOOST_CHECK_NO_THROW(asr::validate(c));
  c.model.attention.type = "linear";
  c.model.attention.num_heads = 0;
  expect_error([&] { asr::validate(c, "mine"); }, {"mine: 'model.num_heads' must be at least 1"});
}

BOOST_AUTO_TEST_CASE(make_optimizer_builds_the_configured_optimizer) {
  asr::OptimConfig o;
  auto adam = asr::make_optimizer(o, one_param());
  auto* a = dynamic_cast<nn::Adam*>(adam.get());
  BOOST_REQUIRE(a);
  BOOST_TEST(!a->decoupled);
  BOOST_TEST(a->lr == 0.002f);
  BOOST_TEST(a->beta1 == 0.9f);
  BOOST_TEST(a->beta2 == 0.999f);
  BOOST_TEST(a->eps == 1e-8f);
  BOOST_TEST(a->weight_decay == 1e-6f);
  BOOST_TEST(a->params().size() == 1u);

  o.type = "adamw";
  o.weight_decay = 0.01f;
  auto adamw = asr::make_optimizer(o, one_param());
  auto* w = dynamic_cast<nn::Adam*>(adamw.get());
  BOOST_REQUIRE(w);
  BOOST_TEST(w->decoupled);
  BOOST_TEST(w->weight_decay == 0.01f);

  o = asr::parse_config("optim: {type: sgd, lr: 0.1, momentum: 0.9, nesterov: true}", "sgd.yaml").optim;
  auto sgd = asr::make_optimizer(o, one_param());
  auto* s = dynamic_cast<nn::SGD*>(sgd.get());
  BOOST_REQUIRE(s);
  BOOST_TEST(s->lr == 0.1f);
  BOOST_TEST(s->momentum == 0.9f);
  BOOST_TEST(s->nesterov);
  BOOST_TEST(s->weight_decay == 1e-6f);
}

BOOST_AUTO_TEST_CASE(make_schedule_builds_the_configured_schedule) {
  Config c;  // warmuplr, lr 0.002, warmup 15000: peaks at lr
  auto warmup = asr::make_schedule(c);
  BOOST_TEST(dynamic_cast<nn::WarmupLR*>(warmup.get()));
  BOOST_TEST(warmup->lr(15000) == 0.002f, boost::test_tools::tolerance(1e-6f));
  BOOST_TEST(warmup->lr(7500) == 0.001f, boost::test_tools::tolerance(1e-6f));

  c = asr::parse_config("schedule: {type: noam, warmup_steps: 100}\noptim: {lr: 5}\nmodel: {d_model: 64}",
                        "noam.yaml");
  auto noam = asr::make_schedule(c);
  BOOST_TEST(dynamic_cast<nn::NoamLR*>(noam.get()));
  BOOST_TEST(noam->lr(100) == 5.0f / 8.0f / 10.0f, boost::test_tools::tolerance(1e-6f));

  c = asr::parse_config("schedule: {type: cosine, warmup_steps: 10, total_steps: 110, min_lr: 1e-4}",
                        "cosine.yaml");
  auto cosine = asr::make_schedule(c);
  BOOST_TEST(dynamic_cast<nn::CosineLR*>(cosine.get()));
  BOOST_TEST(cosine->lr(10) == 0.002f, boost::test_tools::tolerance(1e-6f));
  BOOST_TEST(cosine->lr(110) == 1e-4f, boost::test_tools::tolerance(1e-5f));

  c = asr::parse_config("schedule: {type: constant}", "constant.yaml");
  auto constant = asr::make_schedule(c);
  BOOST_TEST(dynamic_cast<nn::ConstantLR*>(constant.get()));
  BOOST_TEST(constant->lr(1) == 0.002f);
  BOOST_TEST(constant->lr(100000) == 0.002f);
}

BOOST_AUTO_TEST_CASE(docs_describe_every_key) {
  std::ifstream in(kSource / "docs" / "config.md");
  BOOST_REQUIRE(in);
  std::stringstream doc;
  doc << in.rdbuf();
  Config c;
  for (const auto& field : asr::config_fields(c))
    BOOST_CHECK_MESSAGE(doc.str().find("`" + field.key + "`") != std::string::npos,
                        "docs/config.md does not describe `" << field.key << "`");
}
