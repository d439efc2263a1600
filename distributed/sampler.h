// The distributed sampler: every rank reads a disjoint shard of the epoch's batch order
// (which all ranks compute alike from the seed and the epoch), and the position in an epoch
// maps between runs on different numbers of ranks.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

namespace dist {

// Rank r's positions r, r + world, r + 2 world, ... of `order`. drop_remainder: only the
// first (n / world) * world positions are dealt, so every rank gets n / world batches and
// makes the same number of optimizer steps (the last n % world batches of the shuffled
// order wait for another epoch); otherwise every position is dealt (evaluation).
std::vector<size_t> shard(const std::vector<size_t>& order, int rank, int world, bool drop_remainder);

// A checkpoint records the epoch position in batches of the whole job: local * world.
// On `world` ranks that position resumes after this many local batches, rounded up to a
// whole accumulation of `accum` batches (so a few batches may be passed over, none repeated).
int64_t local_position(int64_t global_batches, int world, int64_t accum);

}  // namespace dist
