// The data set a --data (or --calibration, --test-quality) argument names, as a manifest:
//   FILE.jsonl   a manifest anywhere
//   DIR/dev      a split of a data folder (DIR/dev.jsonl)
//   DIR          a data folder (its dev split, DIR/dev.jsonl)
//   SPLIT_DIR    an unprepared corpus split: LibriSpeech layout (*.trans.txt below it),
//                TED-LIUM (stm/ and sph/ in it) or a Kaldi data directory (wav.scp and text
//                in it), whose manifest is prepared on the spot
#pragma once
#include <string>

namespace asr {

class DataManifest {
 public:
  // A corpus split's manifest is written into `dir` (as manifest.jsonl), or, when `dir` is
  // "", into a temporary folder removed with this object. Throws ag::Error naming `flag` and
  // `data` when it names none of the above, and CorpusError for an unreadable corpus.
  DataManifest(const std::string& data, const std::string& flag, const std::string& dir);
  ~DataManifest();
  DataManifest(const DataManifest&) = delete;
  DataManifest& operator=(const DataManifest&) = delete;

  const std::string& path() const { return path_; }
  bool temporary() const { return !temp_dir_.empty(); }  // removed with this object
  // The folder holding the manifest: a data folder, whose own tokenizer (if any) must be the
  // model's (asr/data/model_assets.h).
  std::string folder() const;

 private:
  void remove_temp();

  std::string path_, temp_dir_;
};

// "librispeech", "tedlium" or "kaldi" for a corpus split folder in that layout (read_corpus's
// names), else "".
std::string corpus_layout(const std::string& dir);

}  // namespace asr
