// Manifests: a data set as JSON lines, one utterance per line:
//   {"key": "1011-1-0311", "audio": "/data/an4/train/1011/1/1011-1-0311.flac",
//    "text": "ERASE I S L F THIRTY EIGHT", "start": 0, "end": -1, "duration": 2.9}
// A relative audio path is relative to the manifest's folder.
#pragma once
#include <string>
#include <vector>

#include "asr/data/corpus.h"

namespace asr {

// Writes atomically (temp file, then rename). Throws CorpusError naming the path.
void write_manifest(const std::string& path, const std::vector<Utterance>& utts);

// Throws CorpusError naming the file and line: unreadable file, invalid JSON, a missing or
// mistyped field ("duration" may be left out: end - start, or 0 = not known), a duplicate key.
std::vector<Utterance> read_manifest(const std::string& path);

// A data set as DataConfig.train / dev name it: a manifest file, or a path whose ".jsonl"
// is one ("data/an4/train" -> "data/an4/train.jsonl"). Throws CorpusError if neither exists.
std::string resolve_manifest(const std::string& name);

}  // namespace asr
