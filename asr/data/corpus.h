// Speech corpora: the utterance record and the readers of LibriSpeech's and TED-LIUM's
// layouts and of Kaldi data directories. Readers never stop at one bad utterance: they leave it out and count it in
// `skips`; a missing or empty corpus folder or a malformed line throws CorpusError.
#pragma once
#include <string>
#include <vector>

#include "autograd/error.h"
#include "asr/data/skips.h"

namespace asr {

// A corpus folder or file that cannot be read; the message names the file (and line).
struct CorpusError : ag::Error {
  using ag::Error::Error;
};

struct Utterance {
  std::string key;      // unique id: LibriSpeech's utterance id, TED-LIUM's talk-start-end
  std::string audio;    // path of the audio file
  std::string text;     // normalized transcript (upper case, single spaces)
  double start = 0;     // seconds into the file
  double end = -1;      // seconds; < 0: to the end of the file
  double duration = 0;  // seconds of audio the utterance covers; <= 0: not known
};

// LibriSpeech: split_dir/<speaker>/<chapter>/<id>.flac beside <speaker>-<chapter>.trans.txt
// ("<id> <TEXT>" per line). The audio may be in any format libsndfile reads (<id>.mp3, ...;
// .flac first, then .wav, in any case, where an id has several). Durations come from the
// audio headers. Sorted by key.
std::vector<Utterance> read_librispeech(const std::string& split_dir, SkipCounts& skips);
// Whether a file name is a LibriSpeech transcript's: a name before ".trans.txt".
bool is_librispeech_transcript(const std::string& filename);

// TED-LIUM release 2/3: split_dir/sph/<talk>.sph and split_dir/stm/<talk>.stm ("talk channel
// speaker start end [<label>] text" per line). One utterance per stm segment; segments marked
// ignore_time_segment_in_scoring are skipped, and so are those ending more than
// kMaxSegmentOvershoot past the audio (a smaller overshoot is cut). Text as
// normalize_tedlium_text. Sorted by key.
std::vector<Utterance> read_tedlium(const std::string& split_dir, bool keep_unk, SkipCounts& skips);

// A TED-LIUM stm text as Kaldi's tedlium recipes (and ESPnet's tedlium2, which runs them)
// prepare it: "word(2)" pronunciation variants lose the "(2)"; a final "(...)" (an utterance
// name) is dropped; noise marks (<sil>, <breath>, {NOISE}, [NOISE], any <...> but <unk>) are
// dropped; then a token starting with an apostrophe joins the word before it, one per word
// ("it <sil> 's" -> "IT'S", "<unk> 's" -> "<unk>'S"); words starting with <unk> are kept
// (keep_unk) or dropped; upper case, single spaces.
std::string normalize_tedlium_text(const std::string& text, bool keep_unk);

// A Kaldi data directory: wav.scp ("<recording> <path>"; piped commands "... |" are refused),
// text ("<utterance> <TEXT>"), optional segments ("<utterance> <recording> <start> <end>", end
// -1: to the end of the recording; without it each recording is one utterance) and optional
// utt2spk ("<utterance> <speaker>": its lines are checked, speakers are not used). Relative
// paths are relative to the current directory, as for Kaldi's tools. Utterances without audio
// or text are skipped and counted; a malformed line or a key twice in one file is a
// CorpusError naming file:line. Text as normalize_text; durations from the audio headers.
// Sorted by key.
std::vector<Utterance> read_kaldi_dir(const std::string& dir, SkipCounts& skips);

// layout: librispeech | tedlium | kaldi (keep_unk applies to tedlium). Throws CorpusError
// otherwise.
std::vector<Utterance> read_corpus(const std::string& layout, const std::string& split_dir,
                                   bool keep_unk, SkipCounts& skips);

// For the readers. A segment time in seconds: a finite non-negative number, else CorpusError
// "<where>: bad time '<field>'".
double parse_seconds(const std::string& field, const std::string& where);

// Fits u's [start, end) (end < 0: to the end) to a file of `file_duration` seconds and sets
// u.duration: an end up to kMaxSegmentOvershoot past the file is cut there (as Kaldi's
// extract-segments). False (u unusable) if it starts at or after the end or ends further out.
bool fit_segment(Utterance& u, double file_duration);

}  // namespace asr
