// Streaming evaluation (asr-eval --streaming, docs/streaming.md): utterances run chunk by
// chunk through the encoder's caches, with each chunk timed, and the caches' sizes measured.
#pragma once
#include <vector>

#include "asr/data/batching.h"
#include "asr/model/asr_model.h"

namespace asr {

// The batch's CTC logits, each utterance streamed alone (B = 1) in chunks of chunk_size
// encoder frames with left_chunks chunks of history: out [B, T'max, vocab] (zeros past each
// length) with its lengths, the attention caches in `dtype`. Appends each chunk's seconds
// (encoder + CTC head) to chunk_seconds. With encoder_out, also the encoder's output
// [B, T'max, d] (for rescoring at the end of each utterance).
nn::EncoderOutput streamed_logits(AsrModel& model, const Batch& batch, int64_t chunk_size,
                                  int64_t left_chunks, nn::CacheDtype dtype,
                                  std::vector<double>& chunk_seconds,
                                  ag::Tensor* encoder_out = nullptr);

struct CacheProbe {
  int64_t frames = 0;           // encoder frames streamed
  int64_t attention_bytes = 0;  // measured: the attention caches' history afterwards
  int64_t formula_bytes = 0;    // Encoder::cache_bytes_formula for the history held
  int64_t conv_bytes = 0;       // measured: the convolution caches' tensors
  int64_t capacity_bytes = 0;   // measured: what the attention caches allocated (spare included)
  int64_t shared_bytes = 0;     // the weights all streams share (nn::EncoderStreamWeights)
};

// Streams feats [1, N, input_dim] (N >= 7) through the encoder and reads its caches' bytes.
CacheProbe probe_cache(nn::Encoder& encoder, const ag::Tensor& feats, int64_t chunk_size,
                       int64_t left_chunks, nn::CacheDtype dtype = nn::CacheDtype::f32);

// Mean and 95th percentile (nearest rank) of seconds, in milliseconds; 0 when empty.
double mean_ms(const std::vector<double>& seconds);
double p95_ms(std::vector<double> seconds);

}  // namespace asr
