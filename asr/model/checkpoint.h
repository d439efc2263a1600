// Training checkpoints: the model as safetensors with the full YAML config and the step in
// `__metadata__`, the optimizer state (and the trainer's position: epoch, batch, RNG) in a
// second file beside it. Both written atomically (temp file, then rename).
//
//   <dir>/step_<N>.safetensors         model (loads into PyTorch by name)
//   <dir>/step_<N>.optim.safetensors   optimizer moments + step, trainer state in metadata
//
// A model file carries, beside the weights, what the caller attaches: more metadata and
// tensors (asr-train attaches the tokenizer and CMVN statistics, asr/data/model_assets.h).
#pragma once
#include <string>
#include <vector>

#include "nn/module.h"
#include "nn/optim.h"

namespace asr {

struct TrainerState {
  int64_t step = 0;              // optimizer steps done
  int64_t epoch = 0;             // current epoch (0-based)
  int64_t batch_in_epoch = 0;    // batches of this epoch already consumed
  std::string rng;               // ag::default_generator() state
  double dev_loss = 0, dev_wer = -1;  // last validation (-1: none yet)
};

// Writes model + optimizer files for `state.step` into `dir`, the model file with `attached`'s
// metadata and tensors; returns the model file path.
std::string save_checkpoint(const std::string& dir, const nn::Module& model,
                            const nn::Optimizer* optimizer, const std::string& config_yaml,
                            const TrainerState& state, const nn::SafetensorsFile& attached);

// Writes a model file: the model's weights and `attached`'s tensors, `metadata` and
// `attached`'s metadata (which must not share a name). Atomic.
void save_model_file(const std::string& path, const nn::Module& model, nn::Metadata metadata,
                     const nn::SafetensorsFile& attached);

struct LoadedCheckpoint {
  nn::SafetensorsFile model;          // tensors + metadata ("config", "step", ...)
  std::string config_yaml;            // metadata "config" ("" when absent)
  TrainerState state;                 // from the optimizer file when present, else step only
  nn::NamedTensors optimizer;         // empty when there is no optimizer file
};
// Reads a model file and, when present, its optimizer file. Throws naming the file.
LoadedCheckpoint read_checkpoint(const std::string& model_path);

// The optimizer file that belongs to a model file.
std::string optimizer_path(const std::string& model_path);

// Mean of the float tensors of several model files with identical names and shapes (integer
// tensors, and tensors equal in every file, are taken from the last file as they are);
// metadata from the last file. ESPnet's averaging.
nn::SafetensorsFile average_checkpoints(const std::vector<std::string>& model_paths);

}  // namespace asr
