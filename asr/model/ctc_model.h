// The CTC model: encoder (Conv2dSubsampling, positional encoding, N blocks) and a linear
// CTC head to the vocabulary. Parameter names: `encoder.*`, `ctc.ctc_lo.*` (as ESPnet).
#pragma once
#include <memory>

#include "nn/encoder.h"
#include "nn/linear.h"

namespace asr {

using ag::Tensor;

struct CtcHead : nn::Module {
  CtcHead(int64_t d_model, int64_t vocab_size);
  std::shared_ptr<nn::Linear> ctc_lo;
};

struct CtcOutput {
  Tensor log_probs;              // [B, T', vocab] log-softmax over the vocabulary
  std::vector<int64_t> lengths;  // valid frames per utterance
};

class CtcModel : public nn::Module {
 public:
  // vocab_size counts the blank (id 0).
  CtcModel(const nn::EncoderConfig& c, int64_t vocab_size);
  // feats [B, T, input_dim], lengths -> log-probabilities over [B, T', vocab]
  CtcOutput forward(const Tensor& feats, const std::vector<int64_t>& lengths,
                    int64_t chunk_size = 0, int64_t left_chunks = -1);
  // Logits before log_softmax (for a fused CTC loss).
  nn::EncoderOutput logits(const Tensor& feats, const std::vector<int64_t>& lengths,
                           int64_t chunk_size = 0, int64_t left_chunks = -1);
  int64_t vocab_size() const { return vocab_size_; }

  std::shared_ptr<nn::Encoder> encoder;
  std::shared_ptr<CtcHead> ctc;

 private:
  int64_t vocab_size_;
};

}  // namespace asr
