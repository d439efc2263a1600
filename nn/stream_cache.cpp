#include "stream_cache.h"

namespace nn {
namespace {
int64_t bytes_of(const Tensor& t) {
  return t.defined() ? t.numel() * static_cast<int64_t>(sizeof(float)) : 0;
}
}  // namespace

int64_t AttentionCache::frames() const { return k.frames() > 0 ? k.frames() : latent.frames(); }

int64_t AttentionCache::bytes() const {
  return k.bytes() + v.bytes() + latent.bytes() + bytes_of(s) + bytes_of(z);
}

int64_t AttentionCache::capacity_bytes() const {
  return k.capacity_bytes() + v.capacity_bytes() + latent.capacity_bytes() + bytes_of(s) +
         bytes_of(z);
}

int64_t BlockCache::conv_bytes() const { return bytes_of(conv); }

}  // namespace nn
