#include "asr/eval/evaluate.h"

#include <chrono>

#include "autograd/ops.h"
#include "asr/model/ctc_decode.h"
#include "asr/model/hybrid_decode.h"
#include "asr/model/device.h"
#include "asr/eval/streaming_eval.h"

namespace asr {

Decode decode_of(const std::string& name) {
  if (name == "ctc_greedy" || name == "ctc_beam") return Decode::ctc;
  if (name == "attention_rescoring") return Decode::attention_rescoring;
  if (name == "joint") return Decode::joint;
  throw ag::Error("decoding '" + name +
                  "' is not ctc_greedy, ctc_beam, attention_rescoring or joint");
}

std::string decode_name(Decode d, int beam_size) {
  switch (d) {
    case Decode::ctc: return beam_size <= 1 ? "ctc_greedy" : "ctc_beam";
    case Decode::attention_rescoring: return "attention_rescoring";
    case Decode::joint: return "joint";
  }
  return "?";
}

namespace {

// The hypotheses of a batch: encoder output enc [B, T', d] (hybrid modes), CTC logits
// [B, T', V], lengths.
std::vector<std::vector<int64_t>> decode_batch(AsrModel& model, const ag::Tensor& enc,
                                               const ag::Tensor& logits,
                                               const std::vector<int64_t>& lengths,
                                               const EvalOptions& opt) {
  ag::Tensor log_probs = ag::log_softmax(logits, -1);
  if (opt.decode == Decode::ctc) return ctc_decode(log_probs, lengths, opt.beam_size);
  const HybridDecodeOptions h{opt.beam_size, opt.decode_ctc_weight, opt.length_bonus, 0, true};
  ag::Tensor cpu = ag::to_device(log_probs, ag::Device::cpu);
  std::vector<std::vector<int64_t>> hyps;
  for (int64_t b = 0; b < static_cast<int64_t>(lengths.size()); ++b) {
    ag::Tensor one = ag::reshape(ag::narrow(cpu, 0, b, 1), {cpu.size(1), cpu.size(2)});
    ag::Tensor e = ag::narrow(enc, 0, b, 1);  // [1, T', d]
    hyps.push_back(opt.decode == Decode::joint
                       ? joint_decode(model, e, one, lengths[b], h).tokens
                       : attention_rescoring(model, e, one, lengths[b], h).tokens);
  }
  return hyps;
}

}  // namespace

EvalReport evaluate(AsrModel& model, Loader& loader, const Tokenizer& tokenizer,
                    const EvalOptions& opt) {
  const bool was_training = model.is_training();
  model.eval();
  ag::NoGradGuard no_grad;
  AG_CHECK(!opt.streaming || opt.chunk_size > 0, "evaluate: streaming needs chunk_size > 0, got ",
           opt.chunk_size);
  AG_CHECK(!opt.streaming || opt.device == ag::Device::cpu,
           "evaluate: streaming decodes on the CPU only, not on ", ag::device_name(opt.device));
  const bool hybrid_decode = opt.decode != Decode::ctc;
  AG_CHECK(!hybrid_decode || model.hybrid(), "evaluate: decoding ",
           decode_name(opt.decode, opt.beam_size),
           " needs a hybrid model (model.decoder: transformer); this one is CTC-only");
  AG_CHECK(!opt.streaming || opt.decode != Decode::joint,
           "evaluate: streaming decodes with CTC, rescoring at the end of each utterance "
           "(ctc_greedy, ctc_beam, attention_rescoring), not joint");
  // Streaming reports the CTC loss (the training loss needs the whole utterance's decoder pass).
  const bool hybrid_loss = model.hybrid() && opt.loss_ctc_weight < 1 && !opt.streaming;
  FeatureUploader upload(opt.device);
  EvalReport r;
  int64_t& feasible = r.feasible;
  double correct = 0;  // accuracy x utterances, summed
  auto t0 = std::chrono::steady_clock::now();
  loader.start_epoch(0);
  // Held for the whole evaluation, so that every utterance's stream shares the weights
  // derived once from the model (docs/streaming.md).
  const auto stream_weights = opt.streaming ? model.encoder->stream_weights() : nullptr;
  while (std::optional<Batch> batch = loader.next()) {
    nn::EncoderOutput out;
    ag::Tensor enc;  // encoder output [B, T', d]
    if (opt.streaming) {
      out = streamed_logits(model, *batch, opt.chunk_size, opt.left_chunks, opt.cache_dtype,
                            r.chunk_seconds, hybrid_decode ? &enc : nullptr);
    } else {
      out = model.encoder->forward(upload(batch->feats), batch->lengths, opt.chunk_size,
                                   opt.left_chunks);
      enc = out.out;
      out.out = model.ctc_logits(enc);
    }
    ag::CtcResult ctc = ag::ctc_loss(out.out, out.lengths, batch->targets);
    const std::vector<float> nll = ctc.nll.to_vector();  // one read from the device
    double attention = 0;
    if (hybrid_loss) {
      AsrModel::AttentionLoss a =
          model.attention_loss(enc, out.lengths, batch->targets, opt.lsm_weight);
      attention = a.loss.to(ag::Device::cpu).item();
      correct += a.accuracy * static_cast<double>(batch->size());
      r.attention_loss += attention;
    }
    for (int64_t b = 0; b < batch->size(); ++b)
      if (ctc.feasible[b]) r.ctc_loss += nll[b], ++feasible;
    std::vector<std::vector<int64_t>> hyps = decode_batch(model, enc, out.out, out.lengths, opt);
    for (int64_t b = 0; b < batch->size(); ++b) {
      UtteranceResult u{batch->keys[b], batch->texts[b], tokenizer.decode(hyps[b]), {}, {}};
      u.words = word_errors(u.ref, u.hyp);
      u.chars = char_errors(u.ref, u.hyp);
      r.words += u.words;
      r.chars += u.chars;
      r.audio_seconds += static_cast<double>(batch->lengths[b]) * 0.01;
      r.results.push_back(std::move(u));
    }
  }
  r.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  r.utterances = static_cast<int64_t>(r.results.size());
  r.ctc_loss = feasible ? r.ctc_loss / static_cast<double>(feasible) : 0;
  r.loss = r.ctc_loss;
  if (hybrid_loss) {  // CTC over the feasible utterances, attention over all
    r.loss_ctc_weight = opt.loss_ctc_weight;
    const double n = static_cast<double>(std::max<int64_t>(r.utterances, 1));
    r.attention_loss /= n;
    r.accuracy = correct / n;
    r.loss = r.loss_ctc_weight * r.ctc_loss + (1 - r.loss_ctc_weight) * r.attention_loss;
  }
  model.train(was_training);
  return r;
}

}  // namespace asr
