#include "asr/data/corpus.h"

namespace asr {

std::vector<Utterance> read_corpus(const std::string& layout, const std::string& split_dir,
                                   bool keep_unk, SkipCounts& skips) {
  if (layout == "librispeech") return read_librispeech(split_dir, skips);
  if (layout == "tedlium") return read_tedlium(split_dir, keep_unk, skips);
  throw CorpusError("unknown corpus layout '" + layout + "' (librispeech | tedlium)");
}

}  // namespace asr
