#include "asr/eval/streaming_eval.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <numeric>

#include "autograd/ops.h"

namespace asr {
namespace {
using Clock = std::chrono::steady_clock;

// One utterance feats [1, T, F] -> logits [1, T', vocab] and encoder output [1, T', d],
// timing each chunk.
std::pair<ag::Tensor, ag::Tensor> stream_one(AsrModel& model, const ag::Tensor& feats,
                                             int64_t chunk_size, int64_t left_chunks,
                                             nn::CacheDtype dtype,
                                             std::vector<double>& chunk_seconds) {
  nn::Encoder& enc = *model.encoder;
  nn::EncoderCache cache = enc.make_cache(chunk_size, left_chunks, dtype);
  std::vector<ag::Tensor> outs, encoded;
  for (const nn::FrameWindow& w : nn::stream_windows(feats.size(1), chunk_size)) {
    const auto t0 = Clock::now();
    ag::Tensor window = ag::narrow(feats, 1, w.start, w.length);
    encoded.push_back(enc.forward_chunk(window, cache));
    outs.push_back(model.ctc_logits(encoded.back()));
    chunk_seconds.push_back(std::chrono::duration<double>(Clock::now() - t0).count());
  }
  return {ag::concat(outs, 1), ag::concat(encoded, 1)};
}
}  // namespace

nn::EncoderOutput streamed_logits(AsrModel& model, const Batch& batch, int64_t chunk_size,
                                  int64_t left_chunks, nn::CacheDtype dtype,
                                  std::vector<double>& chunk_seconds, ag::Tensor* encoder_out) {
  ag::NoGradGuard no_grad;
  std::vector<ag::Tensor> items, encoded;
  nn::EncoderOutput out;
  for (int64_t b = 0; b < batch.size(); ++b) {
    ag::Tensor feats = ag::narrow(ag::narrow(batch.feats, 0, b, 1), 1, 0, batch.lengths[b]);
    auto [logits, enc] = stream_one(model, feats, chunk_size, left_chunks, dtype, chunk_seconds);
    items.push_back(logits);
    encoded.push_back(enc);
    out.lengths.push_back(logits.size(1));
  }
  const int64_t longest = *std::max_element(out.lengths.begin(), out.lengths.end());
  auto padded = [&](std::vector<ag::Tensor>& parts) {  // [B, T'max, ·], zeros past each length
    for (ag::Tensor& p : parts) p = ag::pad(p, {0, 0, 0, longest - p.size(1)});
    return ag::concat(parts, 0);
  };
  out.out = padded(items);  // [B, T'max, vocab]
  if (encoder_out) *encoder_out = padded(encoded);
  return out;
}

CacheProbe probe_cache(nn::Encoder& encoder, const ag::Tensor& feats, int64_t chunk_size,
                       int64_t left_chunks, nn::CacheDtype dtype) {
  nn::EncoderCache cache = encoder.make_cache(chunk_size, left_chunks, dtype);
  for (const nn::FrameWindow& w : nn::stream_windows(feats.size(1), chunk_size))
    encoder.forward_chunk(ag::narrow(feats, 1, w.start, w.length), cache);
  CacheProbe p;
  p.frames = cache.offset;
  p.attention_bytes = cache.attention_bytes();
  p.conv_bytes = cache.conv_bytes();
  p.capacity_bytes = cache.attention_capacity_bytes();
  p.shared_bytes = cache.shared->bytes();
  p.formula_bytes = encoder.cache_bytes_formula(cache.history(), dtype, cache.history_chunks());
  return p;
}

double mean_ms(const std::vector<double>& seconds) {
  if (seconds.empty()) return 0;
  return 1000 * std::accumulate(seconds.begin(), seconds.end(), 0.0) /
         static_cast<double>(seconds.size());
}

double p95_ms(std::vector<double> seconds) {
  if (seconds.empty()) return 0;
  std::sort(seconds.begin(), seconds.end());
  const auto rank = static_cast<size_t>(std::ceil(0.95 * static_cast<double>(seconds.size())));
  return 1000 * seconds[std::max<size_t>(rank, 1) - 1];
}

}  // namespace asr
