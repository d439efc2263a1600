// Loader throughput: one training epoch (speed perturbation, fbank, CMVN, SpecAugment, padding)
// of a prepared data folder with 0, 1, 2 and 4 workers; one JSON object per row with the wall
// time, the utterances and the seconds of audio delivered per second.
//   bench_loader DATA_DIR   (as written by asr-prepare)
#include <chrono>
#include <cstdio>
#include <string>

#include "asr/data/loader.h"
#include "asr/data/manifest.h"
#include "asr/data/prepare.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: bench_loader DATA_DIR\n");
    return 2;
  }
  asr::DataFolder folder{argv[1]};
  std::vector<asr::Utterance> utts = asr::read_manifest(folder.manifest("train"));
  auto tokenizer = asr::load_tokenizer(folder.tokenizer());
  asr::Cmvn cmvn = asr::Cmvn::load(folder.cmvn());
  for (int64_t workers : {0, 1, 2, 4}) {
    asr::DataConfig c;
    c.num_workers = workers;
    c.batch_frames = 20000;
    asr::Loader loader(utts, *tokenizer, cmvn, c, true, 1);
    auto t0 = std::chrono::steady_clock::now();
    loader.start_epoch(0);
    int64_t n = 0, frames = 0;
    while (auto b = loader.next()) {
      n += b->size();
      for (int64_t t : b->lengths) frames += t;
    }
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::printf(
        "{\"row\": \"epoch\", \"workers\": %lld, \"batches\": %zu, \"utterances\": %lld, "
        "\"seconds\": %.3f, "
        "\"utterances_per_s\": %.1f, \"audio_x_realtime\": %.1f}\n",
        static_cast<long long>(workers), loader.num_batches(), static_cast<long long>(n), s, n / s,
        frames * 0.01 / s);
  }
  return 0;
}
