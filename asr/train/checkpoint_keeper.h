// Which checkpoints stay on disk: the newest `keep_last` validated ones, the `keep_best` best
// by dev WER (ties by dev loss) or by dev loss (ties by WER; train.best_by), lower being better,
// and the newest of all. The best ones are
// what gets averaged at the end. An unvalidated checkpoint (written on a signal or by
// train.checkpoint_every_minutes) only serves resuming: it goes when a newer one is written.
#pragma once
#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include "asr/model/checkpoint.h"

namespace asr {

struct CheckpointRecord {
  int64_t step;
  std::string path;    // model file; its optimizer file is removed with it
  double dev_wer;      // < 0: not validated
  double dev_loss;
};

// What "best" means: ESPnet's best_model_criterion, lower is better.
enum class BestBy { kWer, kLoss };

class CheckpointKeeper {
 public:
  CheckpointKeeper(int64_t keep_last, int64_t keep_best, BestBy by = BestBy::kWer)
      : keep_last_(keep_last), keep_best_(keep_best), by_(by) {}
  // Records a new checkpoint and deletes the files no longer kept.
  void add(const CheckpointRecord& r);
  // The best `n` validated checkpoints, best first.
  std::vector<CheckpointRecord> best(int64_t n) const;
  const std::vector<CheckpointRecord>& kept() const { return kept_; }
  // Re-reads the records of a resumed run from <dir>/checkpoints.json; save() writes it.
  void load(const std::string& dir);
  void save(const std::string& dir) const;

 private:
  int64_t keep_last_, keep_best_;
  BestBy by_;
  std::vector<CheckpointRecord> kept_;  // by step
};

// The model files "step_<N>.safetensors" in dir, newest (highest N) first; none when dir
// does not exist.
std::vector<std::string> checkpoints_newest_first(const std::string& dir);
// Newest "step_<N>.safetensors" in dir ("" when none).
std::string latest_checkpoint(const std::string& dir);

struct FoundCheckpoint {
  std::string path;  // the model file
  LoadedCheckpoint checkpoint;
};
// The newest checkpoint in dir whose model and optimizer files are both present and read
// whole. A damaged or incomplete newer one is passed over with a line on `log` naming it and
// why, and its files are renamed to "<file>.damaged": kept for a look, never resumed from or
// counted again. nullopt when there is none.
std::optional<FoundCheckpoint> newest_complete_checkpoint(const std::string& dir, std::ostream& log);

}  // namespace asr
