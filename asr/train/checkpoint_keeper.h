// Which checkpoints stay on disk: the newest `keep_last` and the `keep_best` best by dev WER
// (lower is better; ties by dev loss). The best ones are what gets averaged at the end.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace asr {

struct CheckpointRecord {
  int64_t step;
  std::string path;    // model file; its optimizer file is removed with it
  double dev_wer;      // < 0: not validated
  double dev_loss;
};

class CheckpointKeeper {
 public:
  CheckpointKeeper(int64_t keep_last, int64_t keep_best) : keep_last_(keep_last), keep_best_(keep_best) {}
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
  std::vector<CheckpointRecord> kept_;  // by step
};

}  // namespace asr
