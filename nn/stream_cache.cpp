#include "stream_cache.h"

#include <algorithm>

#include "autograd/ops.h"

namespace nn {
namespace {
int64_t bytes_of(const Tensor& t) { return t.defined() ? t.numel() * 4 : 0; }
}  // namespace

int64_t AttentionCache::frames() const {
  if (k.defined()) return k.size(2);
  return latent.defined() ? latent.size(1) : 0;
}

int64_t AttentionCache::bytes() const {
  return bytes_of(k) + bytes_of(v) + bytes_of(latent) + bytes_of(s) + bytes_of(z);
}

int64_t BlockCache::conv_bytes() const { return bytes_of(conv); }

Tensor append_frames(const Tensor& history, const Tensor& next, int64_t dim) {
  if (!history.defined() || history.size(dim) == 0) return next;
  return ag::concat({history, next}, dim);
}

Tensor last_frames(const Tensor& x, int64_t dim, int64_t max_frames) {
  const int64_t n = x.size(dim);
  if (max_frames < 0 || n <= max_frames) return x;
  return ag::narrow(x, dim, n - max_frames, max_frames);
}

}  // namespace nn
