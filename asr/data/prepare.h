// What asr-prepare does, as library calls: a corpus -> a data folder of manifests, global
// CMVN statistics and a trained tokenizer.
//
//   DATA_DIR/train.jsonl     training manifest (utterances that passed every check)
//   DATA_DIR/dev.jsonl       validation manifest
//   DATA_DIR/cmvn.json       CMVN statistics of the training features (speed 1.0, no SpecAugment)
//   DATA_DIR/tokenizer/      the tokenizer trained on the training transcripts
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "asr/data/cmvn.h"
#include "asr/data/corpus.h"
#include "asr/data/skips.h"

namespace asr {

// Paths inside a data folder. DataConfig.train = "DIR/train" names DIR/train.jsonl.
struct DataFolder {
  std::string dir;
  std::string manifest(const std::string& split) const { return dir + "/" + split + ".jsonl"; }
  std::string cmvn() const { return dir + "/cmvn.json"; }
  std::string tokenizer() const { return dir + "/tokenizer"; }
};

struct PrepareOptions {
  std::string corpus;              // corpus root, holding the split folders
  std::string layout;              // librispeech | tedlium | kaldi
  std::string out;                 // the data folder to write
  std::string tokenizer = "char";  // char | bpe | unigram
  int64_t vocab_size = 5000;       // bpe, unigram
  bool keep_unk = false;           // TED-LIUM <unk>
  std::string train_split = "train";
  std::string dev_split = "dev";
  int64_t threads = 0;  // feature extraction threads (0: all cores)
};

struct PrepareReport {
  size_t train = 0, dev = 0;  // utterances written
  double train_hours = 0, dev_hours = 0;
  SkipCounts train_skips, dev_skips;
};

// Reads both splits, trains the tokenizer on the training transcripts, drops what it cannot
// encode, computes CMVN over the training features (dropping audio that fails to load or is
// too short), and writes the folder. Progress on stderr. Throws CorpusError (and the errors
// of the tokenizer and the audio code) for what cannot go on.
PrepareReport prepare_data_folder(const PrepareOptions& o);

// Global CMVN over the fbank features of `utts` on `threads` threads (0: all cores); the
// statistics do not depend on the thread count. Utterances that fail to load, or are shorter
// than 7 frames, are removed from `utts` and counted. `progress`: a label for stderr ("" = quiet).
Cmvn compute_cmvn(std::vector<Utterance>& utts, int64_t threads, SkipCounts& skips,
                  const std::string& progress = "");

// The utterances of one corpus split folder -> a manifest at `path` (audio paths absolute);
// no tokenizer or CMVN (e.g. for a test set). Returns how many were written.
size_t prepare_manifest(const std::string& split_dir, const std::string& layout, bool keep_unk,
                        const std::string& path, SkipCounts& skips);

// One audio file's fbank features (before CMVN) -> a float32 .npy of [frames, 80].
void dump_features(const std::string& audio, const std::string& npy_path);

}  // namespace asr
