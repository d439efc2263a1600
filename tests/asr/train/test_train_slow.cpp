// asr-train end to end on AN4: a small model overfits a handful of utterances, resuming is
// exact, averaging and checkpoints land, and bad input fails with its message.
#include <boost/test/unit_test.hpp>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <sstream>

#include "asr/data/model_assets.h"
#include "asr/data/tokenizer.h"
#include "asr/model/checkpoint.h"
#include "asr/eval/eval_tool.h"
#include "asr/train/checkpoint_keeper.h"
#include "asr/train/trainer.h"
#include "common/error_of.h"
#include "common/gradcheck.h"
#include "asr/train/train_testing.h"

namespace fs = std::filesystem;

namespace {
// Every tensor of the two model files bit for bit equal (a resumed run against a straight one).
void expect_same_tensors(const std::string& straight, const std::string& resumed) {
  auto a = nn::load_safetensors(straight);
  auto b = nn::load_safetensors(resumed);
  BOOST_REQUIRE_EQUAL(a.tensors.size(), b.tensors.size());
  for (size_t i = 0; i < a.tensors.size(); ++i)
    BOOST_CHECK_MESSAGE(testing::max_abs_diff(a.tensors[i].second, b.tensors[i].second) == 0.0f,
                        a.tensors[i].first << " differs between " << straight << " and " << resumed);
}
}  // namespace

BOOST_AUTO_TEST_CASE(overfits_a_handful_of_utterances) {
  std::string data = testing::small_an4("overfit", 8, 8, true);
  std::string config = testing::tiny_config(
      data, "");
  std::string out = fs::path(data).parent_path().string() + "/exp";
  asr::TrainOptions o{config,
                      {"model.dropout=0", "model.positional_dropout=0", "model.attention_dropout=0",
                       "data.specaugment.enabled=false", "train.max_steps=250",
                       "train.validate_every=250", "schedule.warmup_steps=50", "optim.lr=0.003"},
                      out, "", asr::Resume::no, -1, false};
  BOOST_REQUIRE_EQUAL(asr::train(o), 0);
  asr::EvalToolOptions e;
  e.checkpoint = asr::latest_checkpoint(out);
  e.data = data + "/dev";
  e.beam_size = 1;
  e.out = out + "/eval";
  nlohmann::json r = asr::run_eval(e);
  BOOST_TEST_MESSAGE("overfit CER " << r["cer"] << " WER " << r["wer"]);
  BOOST_CHECK_LT(r["cer"].get<double>(), 0.05);
  // The cache a 1000-frame stream holds, measured, is the formula's.
  int64_t cache = r["kv_cache_bytes_1000_measured"].get<int64_t>();
  BOOST_CHECK_EQUAL(cache, r["kv_cache_bytes_per_frame"].get<int64_t>() * 1000);
  BOOST_CHECK_EQUAL(cache, r["kv_cache_bytes_1000_formula"].get<int64_t>());
  std::ostringstream mb;
  mb << std::fixed << std::setprecision(3) << cache / 1e6 << " |";
  BOOST_CHECK(asr::compare_table({out + "/eval"}).find(mb.str()) != std::string::npos);
  // The table names how each run decoded.
  e.streaming = true;
  e.chunk_size = 4;
  e.left_chunks = 2;
  e.out = out + "/eval_stream";
  const nlohmann::json f32 = asr::run_eval(e);
  // int8 caches: the bytes are the formula's and under half of float32's here (d_k 16, 8
  // frames of history in 2 chunks: key scales per chunk weigh).
  e.cache_dtype = "int8";
  e.out = out + "/eval_stream_int8";
  const nlohmann::json int8 = asr::run_eval(e);
  // The model is not causal, so streaming is not exact; int8 must stay near float32's stream.
  BOOST_TEST_MESSAGE("streaming CER float32 " << f32["cer"] << ", int8 " << int8["cer"]);
  BOOST_CHECK_LE(std::fabs(int8["cer"].get<double>() - f32["cer"].get<double>()), 0.02);
  const int64_t int8_bytes = int8["streaming"]["cache_bytes_measured_1000"].get<int64_t>();
  BOOST_CHECK_EQUAL(int8_bytes, int8["streaming"]["cache_bytes_formula_1000"].get<int64_t>());
  BOOST_CHECK_LT(2 * int8_bytes, f32["streaming"]["cache_bytes_measured_1000"].get<int64_t>());
  const std::string table =
      asr::compare_table({out + "/eval", out + "/eval_stream", out + "/eval_stream_int8"});
  BOOST_CHECK(table.find("| offline ctc_greedy |") != std::string::npos);
  BOOST_CHECK(table.find("| streaming c4 l2 ctc_greedy |") != std::string::npos);
  BOOST_CHECK(table.find("| streaming c4 l2 int8 ctc_greedy |") != std::string::npos);
  e.streaming = false;
  testing::check_error([&] { asr::run_eval(e); }, "--cache-dtype int8 is for --streaming");
  e.cache_dtype = "f32";
  e.decode = "joint";  // a CTC-only checkpoint has no decoder
  testing::check_error([&] { asr::run_eval(e); }, "--decode joint needs a hybrid model");
  BOOST_CHECK(fs::exists(out + "/model.avg.safetensors"));
  BOOST_CHECK(fs::exists(out + "/curves.png"));
  BOOST_CHECK(fs::exists(out + "/metrics.jsonl"));
}

// A hybrid CTC/attention model learns the same utterances; every decoding finds them, the
// results say which decoding ran, and the decoder's caches measured equal their formulas.
BOOST_AUTO_TEST_CASE(hybrid_model_overfits_and_decodes_every_way) {
  std::string data = testing::small_an4("overfit_hybrid", 8, 8, true);
  std::string config = testing::tiny_config(data, "");
  std::string out = fs::path(data).parent_path().string() + "/exp";
  asr::TrainOptions o{config,
                      {"model.dropout=0", "model.positional_dropout=0", "model.attention_dropout=0",
                       "data.specaugment.enabled=false", "train.max_steps=250",
                       "train.validate_every=250", "schedule.warmup_steps=50", "optim.lr=0.003",
                       "model.decoder=transformer", "model.decoder_conf.num_layers=1",
                       "model.decoder_conf.ffn_dim=64", "model.decoder_conf.dropout=0",
                       "model.decoder_conf.positional_dropout=0",
                       "model.decoder_conf.self_attention_dropout=0",
                       "model.decoder_conf.src_attention_dropout=0",
                       "model.decoder_conf.src_attention_type=mla",
                       "model.decoder_conf.src_attention_kwargs.latent_dim=8"},
                      out, "", asr::Resume::no, -1, false};
  BOOST_REQUIRE_EQUAL(asr::train(o), 0);
  // The log's hybrid parts: finite losses, accuracies in [0, 1], in training and validation.
  std::ifstream metrics(out + "/metrics.jsonl");
  int records = 0;
  for (std::string line; std::getline(metrics, line);) {
    const nlohmann::json r = nlohmann::json::parse(line);
    if (r.value("kind", "") != "train" && r.value("kind", "") != "dev") continue;
    BOOST_TEST_CONTEXT(line) {
      BOOST_REQUIRE(r.contains("loss_att") && r["loss_att"].is_number());
      BOOST_CHECK(std::isfinite(r["loss_att"].get<double>()) &&
                  std::isfinite(r["loss_ctc"].get<double>()));
      BOOST_CHECK(r["acc"].get<double>() >= 0 && r["acc"].get<double>() <= 1);
      const double w = 0.3;  // the default ctc_weight: loss = w ctc + (1 - w) att
      BOOST_CHECK_CLOSE(r["loss"].get<double>(),
                        w * r["loss_ctc"].get<double>() + (1 - w) * r["loss_att"].get<double>(),
                        1e-4);  // percent; the weight is a float
    }
    ++records;
  }
  BOOST_CHECK_GE(records, 3);
  asr::EvalToolOptions e;
  e.checkpoint = asr::latest_checkpoint(out);
  e.data = data + "/dev";
  e.beam_size = 4;
  for (const std::string decode : {"ctc_greedy", "attention_rescoring", "joint"}) {
    BOOST_TEST_CONTEXT(decode) {
      e.decode = decode;
      e.out = out + "/eval_" + decode;
      const nlohmann::json r = asr::run_eval(e);
      BOOST_TEST_MESSAGE(decode << " CER " << r["cer"] << " WER " << r["wer"]);
      BOOST_CHECK_LT(r["cer"].get<double>(), 0.05);
      BOOST_CHECK_EQUAL(r["decode"].get<std::string>(), decode);
      const nlohmann::json& d = r["decoder"];
      BOOST_CHECK_EQUAL(d["src_attention"].get<std::string>(), "mla");
      BOOST_CHECK_EQUAL(d["src_cache_bytes_per_frame_measured"].get<int64_t>(),
                        d["src_cache_bytes_per_frame_formula"].get<int64_t>());
      BOOST_CHECK_EQUAL(d["src_cache_bytes_per_frame_measured"].get<int64_t>(), 8 * 4);
      BOOST_CHECK_EQUAL(d["self_cache_bytes_per_token_measured"].get<int64_t>(),
                        d["self_cache_bytes_per_token_formula"].get<int64_t>());
    }
  }
  const std::string table =
      asr::compare_table({out + "/eval_ctc_greedy", out + "/eval_joint"});
  BOOST_CHECK(table.find("| mha, decoder mha/mla | offline joint |") != std::string::npos);
  // Streaming decodes with CTC chunk by chunk and rescores each utterance at its end; joint
  // decoding needs the whole encoder output and is refused there.
  e.streaming = true;
  e.chunk_size = 4;
  e.decode = "attention_rescoring";
  e.out = out + "/eval_stream_rescoring";
  const nlohmann::json s = asr::run_eval(e);
  BOOST_CHECK_EQUAL(s["decode"].get<std::string>(), "attention_rescoring");
  BOOST_CHECK(s.contains("streaming"));
  BOOST_CHECK_LT(s["cer"].get<double>(), 0.5);  // not causal: streaming is not exact here
  e.decode = "joint";
  testing::check_error([&] { asr::run_eval(e); }, "not joint");
}

BOOST_AUTO_TEST_CASE(resume_continues_exactly) {
  std::string data = testing::small_an4("resume", 24, 4);
  std::string config = testing::tiny_config(data);
  std::string root = fs::path(data).parent_path().string();
  // Several batches per epoch and an epoch boundary inside the 10 steps.
  std::vector<std::string> sets = {"data.batch_frames=1500", "data.max_frames=1500", "train.max_epochs=0"};
  asr::TrainOptions straight{config, sets, root + "/straight", "", asr::Resume::no, 10, false};
  BOOST_REQUIRE_EQUAL(asr::train(straight), 0);
  asr::TrainOptions first{config, sets, root + "/resumed", "", asr::Resume::no, 5, false};
  BOOST_REQUIRE_EQUAL(asr::train(first), 0);
  asr::TrainOptions second{config, sets, root + "/resumed", "", asr::Resume::newest, 10, false};
  BOOST_REQUIRE_EQUAL(asr::train(second), 0);
  expect_same_tensors(root + "/straight/step_10.safetensors",
                      root + "/resumed/step_10.safetensors");
}

BOOST_AUTO_TEST_CASE(resume_auto_passes_over_a_damaged_checkpoint_and_continues_exactly) {
  std::string data = testing::small_an4("resume_auto", 24, 4);
  std::string config = testing::tiny_config(data);
  std::string root = fs::path(data).parent_path().string();
  std::vector<std::string> sets = {"data.batch_frames=1500", "data.max_frames=1500",
                                   "train.max_epochs=0", "train.validate_every=3"};
  // No checkpoint yet: --resume auto starts fresh.
  std::ostringstream fresh_log;
  {
    testing::CaptureStderr capture(fresh_log);
    BOOST_REQUIRE_EQUAL(asr::train({config, sets, root + "/straight", "", asr::Resume::automatic, 9, false}), 0);
  }
  BOOST_TEST(fresh_log.str().find("resume: no complete checkpoint in " + root + "/straight; starting fresh") !=
                 std::string::npos, fresh_log.str());
  // Checkpoints at steps 3 and 6; the newest then damaged (cut short).
  BOOST_REQUIRE_EQUAL(asr::train({config, sets, root + "/resumed", "", asr::Resume::no, 6, false}), 0);
  const std::string newest = root + "/resumed/step_6.safetensors";
  fs::resize_file(newest, fs::file_size(newest) / 2);
  std::ostringstream log;
  {
    testing::CaptureStderr capture(log);
    BOOST_REQUIRE_EQUAL(asr::train({config, sets, root + "/resumed", "", asr::Resume::automatic, 9, false}), 0);
  }
  BOOST_TEST(log.str().find("resume: passing over " + newest) != std::string::npos, log.str());
  BOOST_TEST(log.str().find("resume: " + root + "/resumed/step_3.safetensors (step 3,") != std::string::npos,
             log.str());
  expect_same_tensors(root + "/straight/step_9.safetensors", root + "/resumed/step_9.safetensors");
}

BOOST_AUTO_TEST_CASE(bad_input_fails_with_its_message) {
  std::string data = testing::small_an4("bad", 4, 2);
  std::string root = fs::path(data).parent_path().string();
  std::string config = testing::tiny_config(data);
  // Missing data folder.
  testing::check_error(
      [&] {
        asr::train({config, {"data.train=" + root + "/nowhere/train", "data.dev=" + root + "/nowhere/dev"},
                    root + "/x", "", asr::Resume::no, 1, false});
      },
      "nowhere");
  // Empty dev set.
  asr::write_manifest(data + "/dev.jsonl", {});
  testing::check_error([&] { asr::train({config, {}, root + "/y", "", asr::Resume::no, 1, false}); },
                       "dev.jsonl holds no utterances");
  // A checkpoint the config does not match: resume with a wider model.
  std::string good = testing::small_an4("bad2", 4, 2);
  std::string config2 = testing::tiny_config(good);
  std::string out = fs::path(good).parent_path().string() + "/exp";
  BOOST_REQUIRE_EQUAL(asr::train({config2, {}, out, "", asr::Resume::no, 2, false}), 0);
  testing::check_error(
      [&] { asr::train({config2, {"model.d_model=32"}, out, "", asr::Resume::newest, 4, false}); },
                       "does the config match the checkpoint?");
  testing::check_error(
      [&] { asr::train({config2, {}, root + "/empty", "", asr::Resume::newest, 4, false}); },
                       "--resume: no checkpoint in");
}

namespace {
// A data folder beside `data` holding only its manifests (no tokenizer, no CMVN statistics).
std::string manifests_only(const std::string& data, const std::string& name) {
  fs::path out = fs::path(data).parent_path() / name;
  fs::create_directories(out);
  for (const char* split : {"train.jsonl", "dev.jsonl"})
    fs::copy_file(fs::path(data) / split, out / split, fs::copy_options::overwrite_existing);
  return out.string();
}

// Replaces the data folder's tokenizer by a sentencepiece model of its transcripts.
void prepare_other_tokenizer(const std::string& data) {
  std::vector<std::string> texts;
  for (const auto& u : asr::read_manifest(data + "/train.jsonl")) texts.push_back(u.text);
  fs::remove_all(data + "/tokenizer");
  asr::train_tokenizer("unigram", texts, 40, data + "/tokenizer");
}
}  // namespace

// --init takes the tokenizer and CMVN statistics from the checkpoint: a data folder of bare
// manifests trains on, and the new checkpoints carry the same parts.
BOOST_AUTO_TEST_CASE(init_takes_tokenizer_and_cmvn_from_the_checkpoint) {
  std::string data = testing::small_an4("init_assets", 12, 4);
  std::string root = fs::path(data).parent_path().string();
  asr::TrainOptions first{testing::tiny_config(data), {}, root + "/first", "", asr::Resume::no, 3,
                          false};
  BOOST_REQUIRE_EQUAL(asr::train(first), 0);
  const std::string first_ckpt = root + "/first/step_3.safetensors";
  const std::string next_ckpt = root + "/next/step_2.safetensors";
  std::string bare = manifests_only(data, "bare");
  std::vector<std::string> sets = {"data.train=" + bare + "/train", "data.dev=" + bare + "/dev"};
  asr::TrainOptions next{testing::tiny_config(data), sets, root + "/next", first_ckpt,
                         asr::Resume::no, 2, false};
  BOOST_REQUIRE_EQUAL(asr::train(next), 0);
  auto a = asr::embedded_assets(nn::load_safetensors(first_ckpt), first_ckpt);
  auto b = asr::embedded_assets(nn::load_safetensors(next_ckpt), next_ckpt);
  BOOST_REQUIRE(a && b && a->cmvn && b->cmvn);
  BOOST_TEST((a->tokenizer->files() == b->tokenizer->files()));
  BOOST_TEST(a->cmvn->mean() == b->cmvn->mean(), boost::test_tools::per_element());
  BOOST_TEST(a->cmvn->stddev() == b->cmvn->stddev(), boost::test_tools::per_element());
  // A data folder with a tokenizer of its own that differs is refused, naming both.
  prepare_other_tokenizer(bare);
  std::string message = testing::error_of([&] { asr::train(next); });
  BOOST_TEST(message.find("the tokenizer of data folder " + bare) != std::string::npos, message);
  BOOST_TEST(message.find("differs from the one") != std::string::npos, message);
}

// A resumed run refuses a data folder prepared again with another tokenizer since.
BOOST_AUTO_TEST_CASE(resume_refuses_a_data_folder_prepared_again) {
  std::string data = testing::small_an4("resume_assets", 12, 4);
  std::string root = fs::path(data).parent_path().string();
  asr::TrainOptions first{testing::tiny_config(data), {}, root + "/run", "", asr::Resume::no, 3,
                          false};
  BOOST_REQUIRE_EQUAL(asr::train(first), 0);
  prepare_other_tokenizer(data);
  asr::TrainOptions again{testing::tiny_config(data), {}, root + "/run", "", asr::Resume::newest,
                          5, false};
  std::string message = testing::error_of([&] { asr::train(again); });
  BOOST_TEST(message.find("was trained with another tokenizer than this run's") !=
                 std::string::npos,
             message);
}
