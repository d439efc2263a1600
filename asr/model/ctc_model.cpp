#include "asr/model/ctc_model.h"

#include "autograd/ops.h"

namespace asr {

CtcHead::CtcHead(int64_t d_model, int64_t vocab_size) {
  ctc_lo = register_module("ctc_lo", std::make_shared<nn::Linear>(d_model, vocab_size));
}

CtcModel::CtcModel(const nn::EncoderConfig& c, int64_t vocab_size) : vocab_size_(vocab_size) {
  AG_CHECK(vocab_size >= 2, "CtcModel: vocab_size ", vocab_size,
           " leaves no token besides the blank");
  encoder = register_module("encoder", std::make_shared<nn::Encoder>(c));
  ctc = register_module("ctc", std::make_shared<CtcHead>(c.d_model, vocab_size));
}

nn::EncoderOutput CtcModel::logits(const Tensor& feats, const std::vector<int64_t>& lengths,
                                   int64_t chunk_size, int64_t left_chunks) {
  nn::EncoderOutput enc = encoder->forward(feats, lengths, chunk_size, left_chunks);
  enc.out = ctc->ctc_lo->forward(enc.out);
  return enc;
}

CtcOutput CtcModel::forward(const Tensor& feats, const std::vector<int64_t>& lengths,
                            int64_t chunk_size, int64_t left_chunks) {
  nn::EncoderOutput out = logits(feats, lengths, chunk_size, left_chunks);
  return {ag::log_softmax(out.out, -1), out.lengths};
}

}  // namespace asr
