// Data-parallel training: every rank holds the whole model, reads its own shard of the data
// and, before each optimizer step, all-reduces the gradients so every rank applies the same
// update. Gradients travel in buckets of about bucket_mb megabytes (the first at most 1 MB),
// filled in the order backward produces them (reverse registration order); a bucket's
// non-blocking all-reduce starts from the grad-ready hook of its last gradient, so
// communication overlaps the rest of backward. Buckets start in index order on every rank (a collective's order must agree).
// Buckets live where the communicator's buffers do (host memory for MPI, the GPU for NCCL);
// gradients on another device are copied across (CUDA training over MPI stages them
// through host memory).
//
//   dp.set_sync(last_micro_step);  // before backward: communicate only on the last one
//   loss.backward();               // hooks copy gradients into buckets and start them
//   dp.finish();                   // starts what is left, waits, writes gradients back
#pragma once
#include <memory>
#include <vector>

#include "communicator.h"
#include "nn/module.h"

namespace dist {

struct DataParallelStats {
  int64_t syncs = 0;           // finish() calls
  double wait_seconds = 0;     // spent in finish(): waiting for slower ranks and communication
  // With measure_exposed: from the moment the last rank entered finish() to the end of the
  // all-reduce, i.e. communication not hidden behind backward (one machine's clock).
  double exposed_seconds = 0;
  int64_t bytes = 0;           // gradient bytes all-reduced per sync
  size_t buckets = 0;
};

class DataParallel {
 public:
  // params: the trainable parameters (those the optimizer steps). op: sum when the loss is
  // already divided by the global batch, average when each rank's loss is a local mean.
  DataParallel(Communicator& comm, const nn::NamedTensors& params, double bucket_mb,
               ReduceOp op = ReduceOp::sum);
  ~DataParallel();
  DataParallel(const DataParallel&) = delete;
  DataParallel& operator=(const DataParallel&) = delete;

  // Copies rank 0's parameters and buffers into every rank's model.
  void broadcast_from_root(const nn::Module& model);
  // Averages the float buffers (e.g. BatchNorm running statistics, which each rank updates
  // from its own data) over the ranks, so that every rank evaluates and saves the same model.
  void average_buffers(const nn::Module& model);
  // Whether the next backward's gradients are all-reduced (false on accumulation micro-steps).
  void set_sync(bool sync);
  // Starts the buckets not started yet (gradients a rank did not produce count as zero),
  // waits for all, and sets every parameter's gradient to the reduced one. Call on every
  // rank before clipping and the optimizer step, also when this rank ran no backward.
  void finish();
  // Seconds one blocking all-reduce of all buckets takes (the fastest of `repeats`): what
  // communication would cost with no overlap, for reports.
  double time_blocking_all_reduce(int repeats);
  // Also measure stats().exposed_seconds (one small extra all-reduce per sync). Meaningful
  // only when all ranks share a clock (one machine).
  void measure_exposed(bool on) { measure_exposed_ = on; }

  const DataParallelStats& stats() const { return stats_; }
  size_t num_buckets() const;

 private:
  struct State;
  std::shared_ptr<State> state_;  // the hooks hold it weakly
  Communicator& comm_;
  DataParallelStats stats_;
  bool measure_exposed_ = false;
};

}  // namespace dist
