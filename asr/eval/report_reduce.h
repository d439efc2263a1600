// Sums what each rank measured over its shard of the data into the job's totals, on every
// rank (collective: all ranks call it at the same point).
#pragma once
#include "distributed/communicator.h"
#include "asr/eval/evaluate.h"

namespace asr {

// Error counts, losses, utterances and audio added up; wall time the slowest rank's;
// per-utterance results stay this rank's own.
void all_reduce_report(EvalReport& r, dist::Communicator& comm);

// In place: each element summed over the ranks.
void all_reduce_sums(std::vector<double>& values, dist::Communicator& comm);

}  // namespace asr
