#include "asr/eval/report_reduce.h"

#include <algorithm>

namespace asr {

namespace {

std::vector<double> counts(const ErrorCounts& e) {
  return {static_cast<double>(e.sub), static_cast<double>(e.del), static_cast<double>(e.ins),
          static_cast<double>(e.ref)};
}

ErrorCounts error_counts(const double* v) {
  return {static_cast<int64_t>(v[0]), static_cast<int64_t>(v[1]), static_cast<int64_t>(v[2]),
          static_cast<int64_t>(v[3])};
}

}  // namespace

void all_reduce_sums(std::vector<double>& values, dist::Communicator& comm) {
  comm.all_reduce(values.data(), values.size(), dist::ReduceOp::sum);
}

void all_reduce_report(EvalReport& r, dist::Communicator& comm) {
  if (comm.world_size() == 1) return;
  std::vector<double> v = counts(r.words);             // [0, 4)
  for (double c : counts(r.chars)) v.push_back(c);     // [4, 8)
  v.insert(v.end(), {r.loss * static_cast<double>(r.feasible), static_cast<double>(r.feasible),
                     static_cast<double>(r.utterances), r.audio_seconds});  // [8, 12)
  // [12, 15): the hybrid parts, per utterance once summed (every rank ran the same options,
  // so loss_ctc_weight agrees, whatever utterances each had)
  const double n = static_cast<double>(r.utterances), f = static_cast<double>(r.feasible);
  const bool hybrid = r.loss_ctc_weight < 1;
  v.insert(v.end(), {r.ctc_loss * f, hybrid ? r.attention_loss * n : 0.0,
                     hybrid ? r.accuracy * n : 0.0});
  all_reduce_sums(v, comm);
  r.words = error_counts(&v[0]);
  r.chars = error_counts(&v[4]);
  r.feasible = static_cast<int64_t>(v[9]);
  r.loss = r.feasible ? v[8] / v[9] : 0;
  r.utterances = static_cast<int64_t>(v[10]);
  r.audio_seconds = v[11];
  r.ctc_loss = r.feasible ? v[12] / v[9] : 0;
  if (hybrid) {
    const double all = std::max(v[10], 1.0);
    r.attention_loss = v[13] / all;
    r.accuracy = v[14] / all;
    r.loss = r.loss_ctc_weight * r.ctc_loss + (1 - r.loss_ctc_weight) * r.attention_loss;
  }
  comm.all_reduce(&r.wall_seconds, 1, dist::ReduceOp::max);
}

}  // namespace asr
