#include "asr/data/prepare.h"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include "asr/data/audio.h"
#include "asr/data/fbank.h"
#include "asr/data/manifest.h"
#include "asr/data/npy.h"
#include "asr/data/tokenizer.h"

namespace asr {
namespace fs = std::filesystem;

namespace {

struct Failure {
  SkipReason reason;
  std::string what;
};

// fbank features of one utterance, or why there are none.
std::optional<Failure> features(const Utterance& u, const Fbank& fbank, ag::Tensor& feats) {
  if (!audio_file_present(u.audio)) return Failure{SkipReason::missing_audio, u.audio};
  std::vector<float> wave;
  try {
    wave = read_audio(u.audio, kSampleRate, u.start, u.end);
  } catch (const AudioError& e) {
    return Failure{SkipReason::bad_audio, e.what()};
  }
  if (fbank.num_frames(static_cast<int64_t>(wave.size())) < kMinUtteranceFrames)
    return Failure{SkipReason::too_short, u.key};
  feats = fbank.compute(wave);  // [T, 80]
  return std::nullopt;
}

// "label: 424/848 (50%), 3.1 s, ETA 3.1 s" every few seconds and at the end.
class Progress {
 public:
  Progress(std::string label, size_t total) : label_(std::move(label)), total_(total) {}
  void update(size_t done) {
    auto now = std::chrono::steady_clock::now();
    if (label_.empty() || done == 0 || (done < total_ && now - last_ < std::chrono::seconds(3)))
      return;
    last_ = now;
    double s = std::chrono::duration<double>(now - start_).count();
    std::fprintf(stderr, "%s: %zu/%zu (%zu%%), %.1f s, ETA %.1f s\n", label_.c_str(), done, total_,
                 done * 100 / total_, s, s / done * (total_ - done));
  }

 private:
  std::string label_;
  size_t total_;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now(), last_ = start_;
};

double hours(const std::vector<Utterance>& utts) {
  double s = 0;
  for (const Utterance& u : utts) s += u.duration;
  return s / 3600;
}

// Leaves out utterances whose transcript the tokenizer cannot encode.
void drop_unencodable(std::vector<Utterance>& utts, const Tokenizer& tok, SkipCounts& skips) {
  std::erase_if(utts, [&](const Utterance& u) {
    try {
      if (!tok.encode(u.text).empty()) return false;
      skips.add(SkipReason::empty_transcript, u.key);
    } catch (const TokenizerError& e) {
      skips.add(SkipReason::unknown_character, u.key + ": " + e.what());
    }
    return true;
  });
}

std::vector<Utterance> read_split(const std::string& layout, const std::string& dir, bool keep_unk,
                                  SkipCounts& skips) {
  std::vector<Utterance> utts = read_corpus(layout, dir, keep_unk, skips);
  for (Utterance& u : utts) u.audio = fs::absolute(u.audio).lexically_normal().string();
  return utts;
}

}  // namespace

Cmvn compute_cmvn(std::vector<Utterance>& utts, int64_t threads, SkipCounts& skips,
                  const std::string& progress) {
  const size_t n = utts.size();
  size_t workers = threads > 0 ? static_cast<size_t>(threads)
                               : std::max(1u, std::thread::hardware_concurrency());
  workers = std::max<size_t>(1, std::min(workers, n));
  const Fbank fbank;  // compute() is thread-safe

  // Features are added in utterance order (so the sums do not depend on timing): each thread
  // parks its result, and whoever holds the lock adds the finished prefix.
  std::vector<ag::Tensor> feats(n);
  std::vector<std::optional<Failure>> failures(n);
  std::vector<bool> finished(n, false);
  std::atomic<size_t> next{0};
  std::mutex mu;
  size_t added = 0;
  std::exception_ptr error;
  Cmvn cmvn;
  Progress report(progress, n);
  auto work = [&] {
    for (size_t i; (i = next++) < n;) {
      ag::Tensor f;
      std::optional<Failure> failure;
      try {
        failure = features(utts[i], fbank, f);
      } catch (...) {
        std::lock_guard<std::mutex> lock(mu);
        if (!error) error = std::current_exception();
        next = n;
        return;
      }
      std::lock_guard<std::mutex> lock(mu);
      feats[i] = f;
      failures[i] = failure;
      finished[i] = true;
      for (; added < n && finished[added]; ++added) {
        if (!failures[added]) cmvn.add(feats[added]);
        feats[added] = ag::Tensor();
      }
      report.update(added);
    }
  };
  std::vector<std::thread> pool;
  for (size_t w = 0; w < workers; ++w) pool.emplace_back(work);
  for (std::thread& t : pool) t.join();
  if (error) std::rethrow_exception(error);

  std::vector<Utterance> kept;
  for (size_t i = 0; i < n; ++i) {
    if (failures[i])
      skips.add(failures[i]->reason, failures[i]->what);
    else
      kept.push_back(std::move(utts[i]));
  }
  utts = std::move(kept);
  return cmvn;
}

PrepareReport prepare_data_folder(const PrepareOptions& o) {
  if (!fs::is_directory(o.corpus)) throw CorpusError(o.corpus + ": corpus folder not found");
  PrepareReport r;
  std::vector<Utterance> train =
      read_split(o.layout, o.corpus + "/" + o.train_split, o.keep_unk, r.train_skips);
  std::vector<Utterance> dev =
      read_split(o.layout, o.corpus + "/" + o.dev_split, o.keep_unk, r.dev_skips);
  if (train.empty())
    throw CorpusError(o.corpus + "/" + o.train_split + ": no usable training utterances");

  DataFolder folder{o.out};
  std::error_code ec;
  fs::create_directories(folder.tokenizer(), ec);
  if (ec) throw CorpusError(o.out + ": cannot create the data folder: " + ec.message());
  std::vector<std::string> texts;
  for (const Utterance& u : train) texts.push_back(u.text);
  std::unique_ptr<Tokenizer> tok =
      train_tokenizer(o.tokenizer, texts, o.vocab_size, folder.tokenizer());
  drop_unencodable(train, *tok, r.train_skips);
  drop_unencodable(dev, *tok, r.dev_skips);

  Cmvn cmvn = compute_cmvn(train, o.threads, r.train_skips, "cmvn (" + o.train_split + ")");
  if (train.empty())
    throw CorpusError(o.corpus + "/" + o.train_split + ": no training audio could be read");
  cmvn.save(folder.cmvn());
  write_manifest(folder.manifest("train"), train);
  write_manifest(folder.manifest("dev"), dev);
  r.train = train.size();
  r.dev = dev.size();
  r.train_hours = hours(train);
  r.dev_hours = hours(dev);
  return r;
}

size_t prepare_manifest(const std::string& split_dir, const std::string& layout, bool keep_unk,
                        const std::string& path, SkipCounts& skips) {
  std::vector<Utterance> utts = read_split(layout, split_dir, keep_unk, skips);
  write_manifest(path, utts);
  return utts.size();
}

void dump_features(const std::string& audio, const std::string& npy_path) {
  std::vector<float> wave = read_audio(audio);
  write_npy(npy_path, Fbank().compute(wave));
}

}  // namespace asr
