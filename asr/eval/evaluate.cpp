#include "asr/eval/evaluate.h"

#include <chrono>

#include "autograd/ops.h"
#include "asr/model/ctc_decode.h"
#include "asr/model/device.h"
#include "asr/eval/streaming_eval.h"

namespace asr {

EvalReport evaluate(AsrModel& model, Loader& loader, const Tokenizer& tokenizer,
                    const EvalOptions& opt) {
  const bool was_training = model.is_training();
  model.eval();
  ag::NoGradGuard no_grad;
  AG_CHECK(!opt.streaming || opt.chunk_size > 0, "evaluate: streaming needs chunk_size > 0, got ",
           opt.chunk_size);
  AG_CHECK(!opt.streaming || opt.device == ag::Device::cpu,
           "evaluate: streaming decodes on the CPU only, not on ", ag::device_name(opt.device));
  FeatureUploader upload(opt.device);
  EvalReport r;
  int64_t& feasible = r.feasible;
  auto t0 = std::chrono::steady_clock::now();
  loader.start_epoch(0);
  // Held for the whole evaluation, so that every utterance's stream shares the weights
  // derived once from the model (docs/streaming.md).
  const auto stream_weights = opt.streaming ? model.encoder->stream_weights() : nullptr;
  while (std::optional<Batch> batch = loader.next()) {
    nn::EncoderOutput out =
        opt.streaming
            ? streamed_logits(model, *batch, opt.chunk_size, opt.left_chunks, opt.cache_dtype,
                              r.chunk_seconds)
            : model.logits(upload(batch->feats), batch->lengths, opt.chunk_size, opt.left_chunks);
    ag::CtcResult ctc = ag::ctc_loss(out.out, out.lengths, batch->targets);
    const std::vector<float> nll = ctc.nll.to_vector();  // one read from the device
    for (int64_t b = 0; b < batch->size(); ++b)
      if (ctc.feasible[b]) r.loss += nll[b], ++feasible;
    ag::Tensor log_probs = ag::log_softmax(out.out, -1);
    std::vector<std::vector<int64_t>> hyps = ctc_decode(log_probs, out.lengths, opt.beam_size);
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
  r.loss = feasible ? r.loss / static_cast<double>(feasible) : 0;
  model.train(was_training);
  return r;
}

}  // namespace asr
