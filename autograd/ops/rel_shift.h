// Relative-position shift for Transformer-XL style attention (ESPnet's RelPositionMultiHeaded-
// Attention, rel_pos_type "latest"). Scores of query i against relative positions
// t-1, t-2, ... (column c holds position t-1-c) become scores against keys j = 0 .. s-1,
// s = p - t + 1: key j is at relative position i - j, i.e. column (t - 1) - i + j.
#pragma once
#include "../tensor.h"

namespace ag {

// x [..., t, p] with p >= t -> [..., t, p - t + 1]; out[..., i, j] = x[..., i, (t-1) - i + j].
// For the usual self-attention p = 2t - 1 and the result is [..., t, t].
Tensor rel_shift(const Tensor& x);

}  // namespace ag
