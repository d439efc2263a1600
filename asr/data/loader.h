// The background data loader: worker threads turn planned batches into padded feature
// tensors (read audio, speed perturbation, fbank, CMVN, SpecAugment) ahead of the consumer,
// into a bounded window, and hand them over in plan order. Everything random is seeded by
// (seed, epoch, utterance), so an epoch's batches do not depend on thread timing.
#pragma once
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <thread>
#include <vector>

#include "asr/data/batching.h"
#include "asr/data/cmvn.h"
#include "asr/config/config.h"
#include "asr/data/corpus.h"
#include "asr/data/fbank.h"
#include "asr/data/skips.h"
#include "asr/data/tokenizer.h"

namespace asr {

class Loader {
 public:
  // Plans the batches: encodes every transcript with `tokenizer` (needed only here), estimates
  // each utterance's frames from its duration, and cuts batches of at most c.batch_frames
  // padded frames. train: 0.9/1.0/1.1 speed copies if c.speed_perturb, SpecAugment if
  // c.specaugment.enabled, c.min_frames / c.max_frames applied, batch order shuffled per
  // epoch. Otherwise: plain features, every utterance of at least kMinUtteranceFrames,
  // batches shortest first. cmvn: the statistics if c.cmvn, else std::nullopt (checked).
  // c.num_workers = 0 reads in next().
  Loader(std::vector<Utterance> utts, const Tokenizer& tokenizer, std::optional<Cmvn> cmvn,
         const DataConfig& c, bool train, uint64_t seed);
  ~Loader();
  Loader(const Loader&) = delete;
  Loader& operator=(const Loader&) = delete;

  // Starts reading `epoch` (from 0), abandoning what is left of the previous one.
  // The first `skip` batches of the epoch's order are passed over unread (a resumed run).
  void start_epoch(int64_t epoch, int64_t skip = 0);
  // The epoch's next batch, or std::nullopt at its end. Utterances that fail to load are left
  // out of their batch (and counted). Rethrows an unexpected error of a worker.
  std::optional<Batch> next();

  // Reads only this rank's shard of each epoch's order (dist::shard): every world-th batch.
  // drop_remainder deals equal shards (training); otherwise every batch (evaluation).
  void set_shard(int rank, int world, bool drop_remainder);

  size_t num_batches() const { return batches_.size(); }
  // Batches this rank reads per epoch: num_batches() without a shard.
  size_t epoch_batches() const;
  // Utterances (speed copies counted) in the plan.
  size_t num_planned() const { return items_.size(); }
  // Every utterance left out so far, each counted once: at planning, and when loading failed.
  SkipCounts skips() const;

 private:
  struct Item {  // one utterance at one speed
    size_t utt;
    double speed;
    std::vector<int64_t> targets;
    std::string key;
  };
  struct Built {  // one batch, or the error that stopped it; no batch if all utterances failed
    std::optional<Batch> batch;
    std::exception_ptr error;
  };

  void plan(const Tokenizer& tokenizer, const DataConfig& c);
  Built build(size_t batch, int64_t epoch);
  std::optional<Example> load(size_t item, int64_t epoch);
  void skip(size_t item, SkipReason r, const std::string& what);
  void work();
  void stop_workers();

  std::vector<Utterance> utts_;
  std::optional<Cmvn> cmvn_;
  SpecAugmentConfig specaugment_;
  bool train_;
  uint64_t seed_;
  size_t num_workers_;
  int shard_rank_ = 0, shard_world_ = 1;
  bool shard_drop_ = false;
  Fbank fbank_;  // shared: compute() is thread-safe
  std::vector<Item> items_;
  std::vector<std::vector<size_t>> batches_;  // item indices, shortest first

  mutable std::mutex mu_;
  std::condition_variable work_cv_, ready_cv_;
  SkipCounts skips_;
  std::set<size_t> load_failed_;  // items already counted
  int64_t epoch_ = -1;
  std::vector<size_t> order_;              // the epoch's batches in reading order
  size_t next_build_ = 0, next_take_ = 0;  // positions in order_
  std::map<size_t, Built> ready_;          // position -> batch
  std::atomic<bool> stop_{false};
  std::vector<std::thread> workers_;
};

}  // namespace asr
