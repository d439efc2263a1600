// Encoder streaming: caches, input windows and the chunk-by-chunk pass (encoder.h).
#include <algorithm>

#include "autograd/ops.h"
#include "encoder.h"

namespace nn {

int64_t EncoderCache::history() const {
  return left_chunks < 0 ? offset : std::min(offset, left_chunks * chunk_size);
}

int64_t EncoderCache::history_chunks() const {
  // Chunks k cover frames [k C, (k+1) C): those meeting [offset - history, offset).
  const int64_t first = (offset - history()) / chunk_size;
  const int64_t end = (offset + chunk_size - 1) / chunk_size;
  return end - first;
}

namespace {
// The sum of bytes_of(layer) over the layers.
template <class Layers, class Bytes>
int64_t summed(const Layers& layers, Bytes bytes_of) {
  int64_t n = 0;
  for (const auto& layer : layers) n += bytes_of(layer);
  return n;
}
}  // namespace

int64_t EncoderCache::attention_bytes() const {
  return summed(layers, [](const BlockCache& l) { return l.attention.bytes(); });
}

int64_t EncoderCache::conv_bytes() const {
  return summed(layers, [](const BlockCache& l) { return l.conv_bytes(); });
}

int64_t EncoderCache::attention_capacity_bytes() const {
  return summed(layers, [](const BlockCache& l) { return l.attention.capacity_bytes(); });
}

int64_t EncoderStreamWeights::bytes() const {
  return summed(layers, [](const AttentionStreamWeights& l) { return l.bytes(); });
}

std::vector<FrameWindow> stream_windows(int64_t frames, int64_t chunk_size) {
  AG_CHECK(chunk_size > 0, "stream_windows: chunk_size ", chunk_size, " must be positive");
  const int64_t out = Conv2dSubsampling::output_length(frames), stride = 4 * chunk_size;
  const int64_t span = 4 * (chunk_size - 1) + Conv2dSubsampling::kMinFrames;
  std::vector<FrameWindow> windows;
  for (int64_t k = 0; k * chunk_size < out; ++k)
    windows.push_back({k * stride, std::min(span, frames - k * stride)});
  return windows;
}

std::shared_ptr<EncoderStreamWeights> Encoder::stream_weights() {
  std::shared_ptr<EncoderStreamWeights> w = stream_weights_.lock();
  if (w) return w;
  ag::NoGradGuard no_grad;
  w = std::make_shared<EncoderStreamWeights>();
  w->encoder = this;
  for (const auto& block : *layers) w->layers.push_back(block->attention().stream_weights());
  stream_weights_ = w;
  return w;
}

void Encoder::cover_positions(EncoderStreamWeights& w, int64_t P) {
  ag::NoGradGuard no_grad;
  Tensor table = rel_pos_enc->table(P, after_norm->weight.device());  // [1, 2P-1, d]
  for (size_t i = 0; i < w.layers.size(); ++i)
    w.layers[i].pos = (*layers)[i].attention().stream_positions(table);  // [H, 2P-1, d_k]
  w.positions = P;
}

EncoderCache Encoder::make_cache(int64_t chunk_size, int64_t left_chunks, CacheDtype dtype) {
  AG_CHECK(chunk_size > 0, "Encoder::make_cache: chunk_size ", chunk_size, " must be positive");
  AG_CHECK(config_.type != "branchformer" || config_.merge != "learned_ave",
           "Encoder: streaming with Branchformer merge learned_ave, whose merge weights pool ",
           "over whole utterances (use merge concat to stream)");
  AG_CHECK(left_chunks < 0 || config_.attention.type != "linear", "Encoder: left_chunks ",
           left_chunks, " with linear attention, whose fixed-size state cannot drop old frames ",
           "(stream with left_chunks -1)");
  EncoderCache cache;
  cache.chunk_size = chunk_size;
  cache.left_chunks = left_chunks;
  cache.layers.resize(layers->size());
  AG_CHECK(dtype == CacheDtype::f32 || config_.attention.type != "linear",
           "Encoder: an int8 cache with linear attention, whose fixed-size state stays float32 ",
           "(int8 caches: mha, gqa, mla)");
  for (BlockCache& layer : cache.layers) {
    layer.attention.max_frames = left_chunks < 0 ? -1 : left_chunks * chunk_size;
    if (dtype == CacheDtype::int8) {
      layer.attention.k.set_int8(CacheFrames::Scales::per_channel);
      layer.attention.v.set_int8(CacheFrames::Scales::per_token);
      layer.attention.latent.set_int8(CacheFrames::Scales::per_token);
    }
  }
  cache.shared = stream_weights();
  return cache;
}

Tensor Encoder::forward_chunk(const Tensor& window, EncoderCache& cache) {
  ag::NoGradGuard no_grad;
  AG_CHECK(window.dim() == 3 && window.size(2) == config_.input_dim &&
               window.size(1) >= Conv2dSubsampling::kMinFrames,
           "Encoder::forward_chunk: window ", ag::shape_str(window.shape()), " must be [B, W, ",
           config_.input_dim, "] with W >= ", Conv2dSubsampling::kMinFrames);
  const int64_t T = Conv2dSubsampling::output_length(window.size(1));
  AG_CHECK(T <= cache.chunk_size, "Encoder::forward_chunk: window of ", window.size(1),
           " frames gives ", T, " frames, more than chunk_size ", cache.chunk_size);
  AG_CHECK(cache.layers.size() == layers->size(), "Encoder::forward_chunk: cache for ",
           cache.layers.size(), " layers, encoder has ", layers->size(), " (use make_cache)");
  AG_CHECK(cache.shared,
           "Encoder::forward_chunk: the cache has no shared weights (use make_cache)");
  AG_CHECK(cache.shared->encoder == this,
           "Encoder::forward_chunk: the cache was made by another encoder (use this one's make_cache)");
  // Relative positions: the shared tables must cover positions history+T-1 .. -(T-1).
  const int64_t need = cache.history() + T;
  if (rel_pos_enc && cache.shared->positions < need) cover_positions(*cache.shared, 2 * need);
  Tensor x = embed->forward(window);  // [B, T, d]
  x = rel_pos_enc ? rel_pos_enc->scale(x) : abs_pos_enc->forward(x, cache.offset);
  for (size_t i = 0; i < cache.layers.size(); ++i)
    x = (*layers)[i].forward_chunk(x, cache.layers[i], cache.shared->layers[i]);
  cache.offset += T;
  return after_norm->forward(x);  // [B, T, d]
}

Tensor Encoder::forward_streaming(const Tensor& feats, int64_t chunk_size, int64_t left_chunks) {
  AG_CHECK(feats.dim() == 3 && feats.size(1) >= Conv2dSubsampling::kMinFrames,
           "Encoder::forward_streaming: features ", ag::shape_str(feats.shape()),
           " must be [B, T, input_dim] with T >= ", Conv2dSubsampling::kMinFrames);
  EncoderCache cache = make_cache(chunk_size, left_chunks);
  std::vector<Tensor> outs;
  for (const FrameWindow& w : stream_windows(feats.size(1), chunk_size))
    outs.push_back(forward_chunk(ag::narrow(feats, 1, w.start, w.length), cache));
  return ag::concat(outs, 1);  // [B, T', d]
}

}  // namespace nn
