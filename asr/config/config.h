// The experiment config: one YAML schema for the model, the data and the training run.
// Defaults follow ESPnet's LibriSpeech-100 Conformer recipe; docs/config.md lists every key.
#pragma once
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "autograd/error.h"
#include "nn/decoder_config.h"
#include "nn/encoder_config.h"

namespace asr {

// A bad config file, key, value or override. The message names the file (or "config") and the
// dotted key, and the line or the override that set it when known.
struct ConfigError : ag::Error {
  using ag::Error::Error;
};

struct SpecAugmentConfig {
  bool enabled = true;
  int64_t num_freq_masks = 2;
  int64_t freq_mask_width = 27;    // widest frequency mask, in fbank bins
  int64_t num_time_masks = 5;
  float time_mask_ratio = 0.05f;   // widest time mask, as a fraction of the utterance
  int64_t time_warp = 5;           // largest warp, in frames (0: none)
};

struct DataConfig {
  std::string train = "data/an4/train";  // prepared data folder or manifest
  std::string dev = "data/an4/dev";
  std::string tokenizer = "char";        // char | bpe | unigram
  int64_t vocab_size = 5000;             // bpe, unigram (ignored for char)
  int64_t batch_frames = 100000;         // padded fbank frames per batch (utterances x longest)
  int64_t max_frames = 3000;             // longer utterances are skipped
  int64_t min_frames = 10;               // shorter utterances are skipped
  int64_t num_workers = 4;               // background loader threads
  bool cmvn = true;                      // global mean/variance normalization
  SpecAugmentConfig specaugment;
  bool speed_perturb = true;             // 0.9 / 1.0 / 1.1 copies of the training set
  std::string unk = "drop";              // keep | drop: TED-LIUM's <unk> word in transcripts
};

struct OptimConfig {
  std::string type = "adam";  // adam | adamw | sgd
  float lr = 0.002f;          // peak learning rate (warmuplr, cosine, constant); scale for noam
  std::array<float, 2> betas = {0.9f, 0.999f};
  float eps = 1e-8f;
  float weight_decay = 1e-6f;  // adam, sgd: L2 on the gradient; adamw: decoupled
  float momentum = 0;          // sgd
  bool nesterov = false;       // sgd
  float clip_grad_norm = 5;    // max global gradient L2 norm (0: no clipping)
};

struct ScheduleConfig {
  std::string type = "warmuplr";  // warmuplr | noam | cosine | constant
  int64_t warmup_steps = 15000;
  int64_t total_steps = 0;        // cosine: step where the decay reaches min_lr
  float min_lr = 0;               // cosine
};

struct TrainConfig {
  int64_t max_epochs = 70;          // 0: no limit
  int64_t max_steps = 0;            // optimizer steps; 0: no limit
  int64_t accum_grad = 4;           // batches per optimizer step
  int64_t validate_every = 0;       // optimizer steps; 0: after each epoch
  int64_t log_every = 100;          // optimizer steps
  int64_t keep_checkpoints = 10;    // the newest validated ones kept (the best are kept too)
  int64_t average_best = 10;        // checkpoints averaged into the final model (0: none)
  std::string best_by = "wer";      // which checkpoints are best: wer | loss (dev, lower is better)
  std::string ctc_reduction = "batch";  // batch: summed loss / utterances; frame: / frames
  std::string device = "cpu";       // cpu | cuda (one GPU per rank under mpirun)
  std::string all_reduce = "auto";  // gradients under mpirun: auto | mpi | nccl (auto: nccl
                                    // with device cuda, mpi with cpu)
  int64_t threads = 0;              // CPU threads per rank (0: the affinity mask's CPUs / the
                                    // ranks of the machine sharing that mask)
  bool dynamic_chunk = false;       // random chunk size per batch (streaming training)
  bool dynamic_left_chunk = false;  // with dynamic_chunk: random left_chunks per batch too
  int64_t chunk_size = 0;           // encoder frames per chunk; 0: whole utterance
  int64_t left_chunks = -1;         // chunks of history each chunk sees; -1: all
  int64_t beam_size = 10;           // CTC prefix beam search (1: greedy)
  float bucket_mb = 25;             // gradient all-reduce bucket size under mpirun (MB)
  float checkpoint_every_minutes = 0;  // also a checkpoint when this long passed since the
                                       // last one (rank 0's clock; 0: off)
  float collective_timeout_s = 1800;   // under mpirun: a collective waiting longer ends the job
                                       // (a hung or dead rank; 0: wait forever)
  // Which parameters train (asr/train/freeze.h): those matching a trainable_param pattern (all
  // when empty) and no freeze_param pattern (ESPnet's --freeze_param). A pattern matches a
  // dotted name or a prefix of it ending at a dot; '*' matches any characters.
  std::vector<std::string> freeze_param, trainable_param;
  // Distillation (asr/train/distill.h): weight * T^2 * KL(teacher || student) of the CTC
  // posteriors at temperature T, over the real frames, added to the CTC loss.
  std::string distill_teacher;     // checkpoint (config in its metadata); "": no distillation
  float distill_weight = 0;        // > 0 with a teacher
  float distill_temperature = 1;   // T > 0
};

// A hybrid CTC/attention model's decoder and loss (ESPnet's decoder, decoder_conf and
// model_conf), YAML keys model.decoder, model.decoder_conf.*, model.ctc_weight and
// model.lsm_weight.
struct HybridConfig {
  std::string decoder = "none";  // none | transformer
  // vocab_size and d_model follow the model's; src_attention.num_heads follows
  // self_attention.num_heads (one key, decoder_conf.num_heads, as ESPnet's attention_heads).
  nn::DecoderConfig decoder_conf = default_decoder();
  float ctc_weight = 0.3f;  // training loss: ctc_weight * CTC + (1 - ctc_weight) * attention
  float lsm_weight = 0.1f;  // label smoothing of the attention loss
  // The decoder to build, or none.
  std::optional<nn::DecoderConfig> decoder_config() const;
  static nn::DecoderConfig default_decoder();
};

struct Config {
  int64_t seed = 2022;
  nn::EncoderConfig model;  // attention.{d_model, relative} follow d_model and positional_encoding
  HybridConfig hybrid;
  DataConfig data;
  OptimConfig optim;
  ScheduleConfig schedule;
  TrainConfig train;
};

// Every key equal (floats compared exactly).
bool operator==(const Config& a, const Config& b);

// Reads a YAML file, applies overrides ("section.key=value", the value a YAML scalar or list,
// later ones winning) and validates. Throws ConfigError.
Config load_config(const std::string& path, const std::vector<std::string>& overrides = {});
// The same from YAML text; source_name stands for the file in messages.
Config parse_config(const std::string& yaml_text, const std::string& source_name,
                    const std::vector<std::string>& overrides = {});
// The full resolved config, every key written: parse_config(to_yaml(c), ...) == c.
std::string to_yaml(const Config& c);

// Checks every value and the ones that must agree (e.g. num_heads dividing d_model); throws
// ConfigError naming source_name and the key.
void validate(const Config& c, const std::string& source_name = "config");

}  // namespace asr
