// Sinusoidal positional encodings as ESPnet's (no parameters; tables cached and grown on
// demand). Both scale the input by sqrt(d_model) first.
#pragma once
#include <utility>

#include "module.h"

namespace nn {

// ESPnet PositionalEncoding: x * sqrt(d) + pe[t], then dropout, with
// pe[t, 2i] = sin(t * w_i), pe[t, 2i+1] = cos(t * w_i), w_i = 10000^(-2i/d).
class PositionalEncoding : public Module {
 public:
  PositionalEncoding(int64_t d_model, float dropout);
  // x [B, T, d] the frames at positions offset .. offset+T-1 (offset > 0: a streaming
  // chunk) -> [B, T, d]
  Tensor forward(const Tensor& x, int64_t offset = 0);

 private:
  int64_t d_model_;
  float dropout_;
  Tensor table_;  // [1, L, d] for t = 0 .. L-1
};

// ESPnet RelPositionalEncoding (rel_pos_type "latest"): returns (dropout(x * sqrt(d)),
// dropout(pos_emb)) with pos_emb [1, 2T-1, d] the sinusoids above for relative positions
// T-1, T-2, ..., -(T-1) (row j is position T-1-j).
class RelPositionalEncoding : public Module {
 public:
  RelPositionalEncoding(int64_t d_model, float dropout);
  // x [B, T, d] -> {x [B, T, d], pos_emb [1, 2T-1, d]}
  std::pair<Tensor, Tensor> forward(const Tensor& x);
  // Streaming: x [B, T, d] -> dropout(x * sqrt(d)) [B, T, d]; the chunks' positions come
  // from table(), projected once per model (Attention::stream_positions).
  Tensor scale(const Tensor& x);
  // The embeddings of positions P-1 .. -(P-1): [1, 2P-1, d] on `device` (no dropout; the
  // table is kept, rebuilt only for more positions).
  Tensor table(int64_t P, ag::Device device);

 private:

  int64_t d_model_;
  float dropout_;
  Tensor table_;  // [1, 2L-1, d] for positions L-1 .. -(L-1)
};

}  // namespace nn
