// asr-prepare: a corpus -> a data folder (manifests, CMVN statistics, tokenizer), a corpus
// split -> one manifest, or one audio file -> its fbank features as .npy. docs/data.md.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <exception>
#include <stdexcept>

#include "asr/data/prepare.h"

namespace {

void report_skips(const char* split, const asr::SkipCounts& skips) {
  if (skips.total() == 0) return;
  std::fprintf(stderr, "asr-prepare: %s: skipped %lld utterances:\n%s", split,
               static_cast<long long>(skips.total()), skips.summary().c_str());
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Prepares speech data for asr-train: manifests, CMVN statistics and a tokenizer"};
  asr::PrepareOptions o;
  std::string unk = "drop", manifest;
  std::vector<std::string> dump;
  auto* corpus = app.add_option(
      "--corpus", o.corpus,
      "corpus root (holding the split folders), or with --manifest one split folder");
  app.add_option("--layout", o.layout,
                 "corpus layout: LibriSpeech folders, TED-LIUM 2/3 sph+stm, or Kaldi data "
                 "directories (wav.scp, text, [segments], [utt2spk])")
      ->check(CLI::IsMember({"librispeech", "tedlium", "kaldi"}));
  auto* out = app.add_option(
      "--out", o.out, "data folder to write (train.jsonl, dev.jsonl, cmvn.json, tokenizer/)");
  app.add_option("--tokenizer", o.tokenizer, "output units")
      ->check(CLI::IsMember({"char", "bpe", "unigram"}))
      ->capture_default_str();
  app.add_option("--vocab-size", o.vocab_size, "bpe/unigram vocabulary size")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--unk", unk, "TED-LIUM <unk>: keep it in the transcripts or drop it")
      ->check(CLI::IsMember({"keep", "drop"}))
      ->capture_default_str();
  app.add_option("--train-split", o.train_split, "training split folder under --corpus")
      ->capture_default_str();
  app.add_option("--dev-split", o.dev_split, "validation split folder under --corpus")
      ->capture_default_str();
  app.add_option("--threads", o.threads, "feature extraction threads (0: all cores)")
      ->check(CLI::NonNegativeNumber);
  auto* man = app.add_option("--manifest", manifest,
                             "write only this manifest of the split folder --corpus");
  auto* dumpf = app.add_option("--dump-features", dump,
                               "AUDIO OUT.npy: one file's fbank features (before CMVN)")
                    ->expected(2);
  out->excludes(man);
  dumpf->excludes(corpus)->excludes(out)->excludes(man);
  CLI11_PARSE(app, argc, argv);

  try {
    if (!dump.empty()) {
      asr::dump_features(dump[0], dump[1]);
      return 0;
    }
    if (o.corpus.empty() || o.layout.empty() || (o.out.empty() && manifest.empty()))
      throw std::runtime_error(
          "need --corpus DIR --layout L and --out DATA_DIR or --manifest FILE (or "
          "--dump-features); see --help");
    o.keep_unk = unk == "keep";
    if (!manifest.empty()) {
      asr::SkipCounts skips;
      size_t n = asr::prepare_manifest(o.corpus, o.layout, o.keep_unk, manifest, skips);
      std::fprintf(stderr, "asr-prepare: %zu utterances -> %s\n", n, manifest.c_str());
      report_skips("corpus", skips);
      return 0;
    }
    asr::PrepareReport r = asr::prepare_data_folder(o);
    std::fprintf(stderr,
                 "asr-prepare: %s: %zu utterances (%.2f h), %s: %zu utterances (%.2f h) -> %s\n",
                 o.train_split.c_str(), r.train, r.train_hours, o.dev_split.c_str(), r.dev,
                 r.dev_hours, o.out.c_str());
    report_skips(o.train_split.c_str(), r.train_skips);
    report_skips(o.dev_split.c_str(), r.dev_skips);
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "asr-prepare: error: %s\n", e.what());
    return 1;
  }
}
