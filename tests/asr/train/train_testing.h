// Shared by the training tests: a data folder prepared from AN4 in a temp dir, with
// manifests cut down to a few utterances, and configs for tiny models.
#pragma once
#include <unistd.h>
#include <boost/test/unit_test.hpp>

#include <filesystem>
#include <fstream>
#include <iostream>

#include "asr/data/manifest.h"
#include "asr/data/prepare.h"
#include "common/an4.h"

namespace testing {

// Prepares AN4 into <tmp>/<name>/data once per process, keeps the first `train_utts` training
// and `dev_utts` dev utterances (dev = train's when same_dev). Returns the data folder.
inline std::string small_an4(const std::string& name, size_t train_utts, size_t dev_utts,
                             bool same_dev = false) {
  namespace fs = std::filesystem;
  fs::path root = fs::temp_directory_path() / ("latentasr_" + name + "_" + std::to_string(getpid()));
  fs::remove_all(root);
  asr::PrepareOptions o;
  o.corpus = an4_dir().string();
  o.layout = "librispeech";
  o.out = (root / "data").string();
  asr::prepare_data_folder(o);
  auto train = asr::read_manifest(o.out + "/train.jsonl");
  train.resize(std::min(train.size(), train_utts));
  auto dev = same_dev ? train : asr::read_manifest(o.out + "/dev.jsonl");
  dev.resize(std::min(dev.size(), dev_utts));
  asr::write_manifest(o.out + "/train.jsonl", train);
  asr::write_manifest(o.out + "/dev.jsonl", dev);
  return o.out;
}

// A tiny Conformer config over `data` written to <data>/../config.yaml; returns its path.
inline std::string tiny_config(const std::string& data, const std::string& extra = "") {
  std::string path = std::filesystem::path(data).parent_path().string() + "/config.yaml";
  std::ofstream(path) << "seed: 7\n"
                      << "model: {d_model: 64, num_layers: 2, num_heads: 4, ffn_dim: 256, conv_kernel: 7,"
                      << " dropout: 0.1, positional_dropout: 0.1, attention_dropout: 0.1}\n"
                      << "data: {train: " << data << "/train, dev: " << data << "/dev,"
                      << " batch_frames: 3000, num_workers: 1, speed_perturb: false}\n"
                      << "optim: {lr: 0.002, betas: [0.9, 0.98]}\n"
                      << "schedule: {type: warmuplr, warmup_steps: 30}\n"
                      << "train: {max_epochs: 0, max_steps: 10, accum_grad: 1, log_every: 5,"
                      << " keep_checkpoints: 3, average_best: 2, threads: 2}\n"
                      << extra;
  return path;
}

// Sends std::cerr to `to` while alive.
class CaptureStderr {
 public:
  explicit CaptureStderr(std::ostream& to) : old_(std::cerr.rdbuf(to.rdbuf())) {}
  ~CaptureStderr() { std::cerr.rdbuf(old_); }
  CaptureStderr(const CaptureStderr&) = delete;
  CaptureStderr& operator=(const CaptureStderr&) = delete;

 private:
  std::streambuf* old_;
};

}  // namespace testing
