#include "asr/model/asr_model.h"

#include <algorithm>

#include "asr/model/label_smoothing.h"
#include "autograd/ops.h"
#include "nn/masks.h"

namespace asr {

CtcHead::CtcHead(int64_t d_model, int64_t vocab_size) {
  ctc_lo = register_module("ctc_lo", std::make_shared<nn::Linear>(d_model, vocab_size));
}

AsrModel::AsrModel(const nn::EncoderConfig& c, int64_t vocab_size,
                   const std::optional<nn::DecoderConfig>& decoder_config)
    : vocab_size_(vocab_size) {
  AG_CHECK(vocab_size >= 2, "AsrModel: vocab_size ", vocab_size,
           " leaves no token besides the blank");
  encoder = register_module("encoder", std::make_shared<nn::Encoder>(c));
  if (decoder_config) {  // registered before ctc, as ESPnet's ESPnetASRModel
    nn::DecoderConfig d = *decoder_config;
    d.vocab_size = vocab_size + 1;  // the CTC ids and <sos/eos>
    d.d_model = c.d_model;
    decoder = register_module("decoder", std::make_shared<nn::TransformerDecoder>(d));
  }
  ctc = register_module("ctc", std::make_shared<CtcHead>(c.d_model, vocab_size));
}

Tensor AsrModel::ctc_logits(const Tensor& encoder_out) const {
  return ctc->ctc_lo->forward(encoder_out);
}

nn::EncoderOutput AsrModel::logits(const Tensor& feats, const std::vector<int64_t>& lengths,
                                   int64_t chunk_size, int64_t left_chunks) {
  nn::EncoderOutput enc = encoder->forward(feats, lengths, chunk_size, left_chunks);
  enc.out = ctc_logits(enc.out);
  return enc;
}

CtcOutput AsrModel::forward(const Tensor& feats, const std::vector<int64_t>& lengths,
                            int64_t chunk_size, int64_t left_chunks) {
  nn::EncoderOutput out = logits(feats, lengths, chunk_size, left_chunks);
  return {ag::log_softmax(out.out, -1), out.lengths};
}

AsrModel::AttentionLoss AsrModel::attention_loss(const Tensor& enc,
                                                 const std::vector<int64_t>& lengths,
                                                 const std::vector<std::vector<int64_t>>& targets,
                                                 float smoothing) {
  AG_CHECK(decoder, "AsrModel: attention_loss needs a decoder (model.decoder: transformer)");
  const int64_t B = static_cast<int64_t>(targets.size());
  AG_CHECK(enc.dim() == 3 && enc.size(0) == B && static_cast<int64_t>(lengths.size()) == B,
           "AsrModel: attention_loss of encoder output ", ag::shape_str(enc.shape()), " for ",
           B, " targets and ", lengths.size(), " lengths");
  int64_t L = 0;  // decoder positions: the longest target and <eos>
  for (const auto& y : targets) L = std::max<int64_t>(L, static_cast<int64_t>(y.size()) + 1);
  // inputs <sos> y (padded with <eos>, never attended), outputs y <eos>
  std::vector<int64_t> in(static_cast<size_t>(B * L), sos_eos()), steps(B);
  std::vector<std::vector<int64_t>> out(targets);
  for (int64_t b = 0; b < B; ++b) {
    for (size_t i = 0; i < targets[b].size(); ++i) in[b * L + 1 + i] = targets[b][i];
    out[b].push_back(sos_eos());
    steps[b] = static_cast<int64_t>(out[b].size());
  }
  const ag::Device dev = enc.device();
  Tensor tokens = ag::to_device(ag::from_int_vector(in, {B, L}), dev);
  Tensor memory_mask = nn::attention_mask(lengths, enc.size(1), 0, -1, dev);  // [B, 1, T']
  Tensor logits = decoder->forward(tokens, steps, enc, memory_mask);        // [B, L, V+1]
  return {label_smoothing_loss(logits, out, smoothing), token_accuracy(logits, out)};
}

}  // namespace asr
