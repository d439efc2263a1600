// --data: a manifest, a data folder's split, or a corpus split prepared on the spot.
#include "asr/eval/eval_data.h"

#include <unistd.h>

#include <filesystem>
#include <iostream>

#include "asr/data/corpus.h"
#include "asr/data/prepare.h"

namespace asr {
namespace fs = std::filesystem;

namespace {

bool has_librispeech_transcript(const std::string& dir) {
  std::error_code ec;
  for (fs::recursive_directory_iterator it(dir, fs::directory_options::follow_directory_symlink, ec),
       end;
       !ec && it != end; it.increment(ec))
    if (is_librispeech_transcript(it->path().filename().string())) return true;
  return false;
}

}  // namespace

std::string corpus_layout(const std::string& dir) {
  const fs::path d(dir);
  if (!fs::is_directory(d)) return "";
  if (fs::is_directory(d / "stm") && fs::is_directory(d / "sph")) return "tedlium";
  if (fs::is_regular_file(d / "wav.scp") && fs::is_regular_file(d / "text")) return "kaldi";
  return has_librispeech_transcript(dir) ? "librispeech" : "";
}

DataManifest::DataManifest(const std::string& data, const std::string& flag, const std::string& dir) {
  if (fs::is_regular_file(data)) {
    path_ = data;
    return;
  }
  if (fs::is_regular_file(data + ".jsonl")) {
    path_ = data + ".jsonl";
    return;
  }
  if (fs::is_directory(data) && fs::is_regular_file(data + "/dev.jsonl")) {
    path_ = data + "/dev.jsonl";
    return;
  }
  const std::string layout = corpus_layout(data);
  AG_CHECK(!layout.empty(), flag, " ", data,
           ": no data there (expected a manifest .jsonl, a split DIR/dev with DIR/dev.jsonl, a "
           "data folder with dev.jsonl, or a corpus split folder: LibriSpeech layout with "
           "*.trans.txt below it, TED-LIUM with stm/ and sph/, or a Kaldi data directory with "
           "wav.scp and text)");
  std::string out = dir;
  if (out.empty()) {
    out = (fs::temp_directory_path() / ("latentasr_data_" + std::to_string(getpid()) + "_" +
                                        std::to_string(reinterpret_cast<uintptr_t>(this))))
              .string();
    temp_dir_ = out;
  }
  fs::create_directories(out);
  path_ = out + "/manifest.jsonl";
  SkipCounts skips;
  size_t n = 0;
  try {
    n = prepare_manifest(data, layout, false, path_, skips);
  } catch (...) {
    remove_temp();  // no destructor runs after a constructor throws
    throw;
  }
  std::cerr << flag << " " << data << ": " << n << " utterances (" << layout << " layout)"
            << (temp_dir_.empty() ? " in " + path_ : "") << "\n";
  if (skips.total()) std::cerr << flag << " " << data << ": skipped\n" << skips.summary();
}

DataManifest::~DataManifest() { remove_temp(); }

void DataManifest::remove_temp() {
  if (temp_dir_.empty()) return;
  std::error_code ec;
  fs::remove_all(temp_dir_, ec);
}

std::string DataManifest::folder() const { return fs::path(path_).parent_path().string(); }

}  // namespace asr
