#include "asr/data/loader.h"

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <random>

#include "asr/data/audio.h"
#include "distributed/sampler.h"
#include "asr/data/specaugment.h"

namespace asr {

namespace {

// Samples added to a length estimate so that resampling and speed changes, which may round
// a few samples up, cannot make an utterance longer than planned.
constexpr int64_t kSlackSamples = 16;

std::string speed_key(const std::string& key, double speed) {
  if (speed == 1.0) return key;
  char prefix[16];
  std::snprintf(prefix, sizeof prefix, "sp%.1f-", speed);
  return prefix + key;
}

}  // namespace

Loader::Loader(std::vector<Utterance> utts, const Tokenizer& tokenizer, std::optional<Cmvn> cmvn,
               const DataConfig& c, bool train, uint64_t seed)
    : utts_(std::move(utts)),
      cmvn_(std::move(cmvn)),
      specaugment_(c.specaugment),
      train_(train),
      seed_(seed),
      num_workers_(static_cast<size_t>(std::max<int64_t>(c.num_workers, 0))) {
  AG_CHECK(c.cmvn == cmvn_.has_value(), "Loader: data.cmvn is ", c.cmvn ? "true" : "false",
           " but CMVN statistics were ", cmvn_ ? "given" : "not given");
  plan(tokenizer, c);
}

Loader::~Loader() { stop_workers(); }

void Loader::plan(const Tokenizer& tokenizer, const DataConfig& c) {
  std::vector<double> speeds = {1.0};
  if (train_ && c.speed_perturb) speeds = {0.9, 1.0, 1.1};
  std::vector<int64_t> frames;
  std::vector<std::string> keys;
  for (size_t u = 0; u < utts_.size(); ++u) {
    Utterance& utt = utts_[u];
    std::vector<int64_t> targets;
    try {
      targets = tokenizer.encode(utt.text);
    } catch (const TokenizerError& e) {
      skips_.add(SkipReason::unknown_character, utt.key + ": " + e.what());
      continue;
    }
    if (targets.empty()) {
      skips_.add(SkipReason::empty_transcript, utt.key);
      continue;
    }
    if (utt.duration <= 0) {  // not in the manifest: from the header
      if (!audio_file_present(utt.audio)) {
        skips_.add(SkipReason::missing_audio, utt.audio);
        continue;
      }
      try {
        utt.duration = audio_duration(utt.audio) - utt.start;
      } catch (const AudioError& e) {
        skips_.add(SkipReason::bad_audio, e.what());
        continue;
      }
    }
    for (double speed : speeds) {
      Item item{u, speed, targets, speed_key(utt.key, speed)};
      int64_t samples = std::llround(utt.duration * kSampleRate / speed) + kSlackSamples;
      int64_t n = fbank_.num_frames(samples);
      if (n < kMinUtteranceFrames) {
        skips_.add(SkipReason::too_short, item.key);
        continue;
      }
      items_.push_back(std::move(item));
      frames.push_back(n);
      keys.push_back(items_.back().key);
    }
  }
  BatchingOptions o{c.batch_frames, kMinUtteranceFrames};
  if (train_) {
    o.min_frames = std::max(c.min_frames, kMinUtteranceFrames);
    o.max_frames = c.max_frames;
  }
  batches_ = make_batches(frames, keys, o, skips_);
}

SkipCounts Loader::skips() const {
  std::lock_guard<std::mutex> lock(mu_);
  return skips_;
}

void Loader::skip(size_t item, SkipReason r, const std::string& what) {
  std::lock_guard<std::mutex> lock(mu_);
  if (load_failed_.insert(item).second) skips_.add(r, what);
}

std::optional<Example> Loader::load(size_t item_id, int64_t epoch) {
  const Item& item = items_[item_id];
  const Utterance& u = utts_[item.utt];
  if (!audio_file_present(u.audio)) {
    skip(item_id, SkipReason::missing_audio, u.audio);
    return std::nullopt;
  }
  std::vector<float> wave;
  try {
    wave = read_audio(u.audio, kSampleRate, u.start, u.end);
  } catch (const AudioError& e) {
    skip(item_id, SkipReason::bad_audio, e.what());
    return std::nullopt;
  }
  if (item.speed != 1.0) wave = change_speed(wave, item.speed);
  if (fbank_.num_frames(static_cast<int64_t>(wave.size())) < kMinUtteranceFrames) {
    skip(item_id, SkipReason::too_short, item.key);
    return std::nullopt;
  }
  ag::Tensor feats = fbank_.compute(wave);  // [T, 80]
  if (cmvn_) feats = cmvn_->apply(feats);
  if (train_ && specaugment_.enabled) {
    std::mt19937_64 rng(mix_seed(seed_, static_cast<uint64_t>(epoch), item_id));
    feats = spec_augment(feats, specaugment_, rng);
  }
  return Example{feats, item.targets, item.key, u.text};
}

Loader::Built Loader::build(size_t batch, int64_t epoch) {
  Built out;
  try {
    std::vector<Example> examples;
    for (size_t item : batches_[batch]) {
      if (stop_) return out;
      if (auto e = load(item, epoch)) examples.push_back(std::move(*e));
    }
    if (!examples.empty()) out.batch = pad_batch(std::move(examples));
  } catch (...) {
    out.error = std::current_exception();
  }
  return out;
}

void Loader::work() {
  const size_t window = 2 * num_workers_;  // batches built ahead of the consumer
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    work_cv_.wait(lock, [&] {
      return stop_ || next_build_ >= order_.size() || next_build_ < next_take_ + window;
    });
    if (stop_ || next_build_ >= order_.size()) return;
    size_t pos = next_build_++;
    int64_t epoch = epoch_;
    lock.unlock();
    Built b = build(order_[pos], epoch);
    lock.lock();
    ready_[pos] = std::move(b);
    ready_cv_.notify_all();
  }
}

void Loader::stop_workers() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  work_cv_.notify_all();
  for (std::thread& t : workers_) t.join();
  workers_.clear();
  stop_ = false;
}

void Loader::set_shard(int rank, int world, bool drop_remainder) {
  AG_CHECK(world >= 1 && rank >= 0 && rank < world, "Loader::set_shard: rank ", rank, " of ", world);
  shard_rank_ = rank;
  shard_world_ = world;
  shard_drop_ = drop_remainder;
}

size_t Loader::epoch_batches() const {
  const size_t n = batches_.size(), w = static_cast<size_t>(shard_world_), r = static_cast<size_t>(shard_rank_);
  return shard_drop_ ? n / w : (n + w - 1 - r) / w;
}

void Loader::start_epoch(int64_t epoch, int64_t skip) {
  AG_CHECK(epoch >= 0 && skip >= 0, "Loader::start_epoch: epoch ", epoch, ", skip ", skip);
  stop_workers();
  std::lock_guard<std::mutex> lock(mu_);
  epoch_ = epoch;
  if (train_) {
    order_ = shuffled_order(batches_.size(), seed_, epoch);
  } else {
    order_.resize(batches_.size());
    for (size_t i = 0; i < order_.size(); ++i) order_[i] = i;
  }
  if (shard_world_ > 1) order_ = dist::shard(order_, shard_rank_, shard_world_, shard_drop_);
  next_build_ = next_take_ = std::min(static_cast<size_t>(skip), order_.size());
  ready_.clear();
  for (size_t w = 0; w < std::min(num_workers_, order_.size()); ++w)
    workers_.emplace_back(&Loader::work, this);
}

std::optional<Batch> Loader::next() {
  AG_CHECK(epoch_ >= 0, "Loader::next: call start_epoch first");
  while (true) {
    Built b;
    {
      std::unique_lock<std::mutex> lock(mu_);
      if (next_take_ >= order_.size()) return std::nullopt;
      size_t pos = next_take_++;
      work_cv_.notify_all();  // the window moved
      if (workers_.empty()) {
        lock.unlock();
        b = build(order_[pos], epoch_);
      } else {
        ready_cv_.wait(lock, [&] { return ready_.count(pos) > 0; });
        b = std::move(ready_[pos]);
        ready_.erase(pos);
      }
    }
    if (b.error) std::rethrow_exception(b.error);
    if (b.batch) return std::move(b.batch);
  }
}

}  // namespace asr
