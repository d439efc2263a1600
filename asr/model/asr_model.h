// The ASR model: encoder (Conv2dSubsampling, positional encoding, N blocks), a linear CTC head
// to the vocabulary and, for hybrid CTC/attention models, a Transformer decoder over the
// encoder's output. Parameter names as ESPnet's: `encoder.*`, `ctc.ctc_lo.*`, `decoder.*`.
//
// Token ids: the CTC vocabulary of V ids holds the blank (0) and the tokens (1 .. V-1); the
// decoder's has one id more, V, which is ESPnet's <sos/eos> (start and end of a sentence).
#pragma once
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "nn/encoder.h"
#include "nn/linear.h"
#include "nn/transformer_decoder.h"

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

class AsrModel : public nn::Module {
 public:
  // vocab_size counts the blank (id 0); a decoder config makes the model hybrid (its
  // vocab_size and d_model are set here: vocab_size + 1 and the encoder's).
  AsrModel(const nn::EncoderConfig& c, int64_t vocab_size,
           const std::optional<nn::DecoderConfig>& decoder = std::nullopt);
  // feats [B, T, input_dim], lengths -> log-probabilities over [B, T', vocab]
  CtcOutput forward(const Tensor& feats, const std::vector<int64_t>& lengths,
                    int64_t chunk_size = 0, int64_t left_chunks = -1);
  // Logits before log_softmax (for a fused CTC loss).
  nn::EncoderOutput logits(const Tensor& feats, const std::vector<int64_t>& lengths,
                           int64_t chunk_size = 0, int64_t left_chunks = -1);
  // The CTC head on encoder output [B, T', d_model] -> logits [B, T', vocab].
  Tensor ctc_logits(const Tensor& encoder_out) const;
  int64_t vocab_size() const { return vocab_size_; }
  bool hybrid() const { return decoder != nullptr; }
  // The decoder's start and end token (ids as above).
  int64_t sos_eos() const { return vocab_size_; }

  // The attention loss of a batch (hybrid models): the decoder reads encoder output
  // enc [B, T', d] (lengths valid frames) with the teacher-forced inputs <sos> y_1 .. y_n and
  // predicts y_1 .. y_n <eos> for each target y (CTC ids); label-smoothed KL summed over the
  // batch, and the share of tokens predicted right.
  struct AttentionLoss {
    Tensor loss;
    double accuracy = 0;
  };
  AttentionLoss attention_loss(const Tensor& enc, const std::vector<int64_t>& lengths,
                               const std::vector<std::vector<int64_t>>& targets,
                               float smoothing);

  std::shared_ptr<nn::Encoder> encoder;
  std::shared_ptr<nn::TransformerDecoder> decoder;  // null unless hybrid
  std::shared_ptr<CtcHead> ctc;

 private:
  int64_t vocab_size_;
};

}  // namespace asr
