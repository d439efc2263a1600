#include "stream_cache.h"

#include "autograd/ops.h"

namespace nn {
namespace {
int64_t bytes_of(const Tensor& t) {
  return t.defined() ? t.numel() * static_cast<int64_t>(sizeof(float)) : 0;
}
}  // namespace

int64_t AttentionCache::frames() const { return k.frames() > 0 ? k.frames() : latent.frames(); }

void AttentionCache::select(const Tensor& rows) {
  for (CacheFrames* f : {&k, &v, &latent}) f->select(rows);
  ag::NoGradGuard no_grad;
  for (Tensor* t : {&s, &z})
    if (t->defined()) *t = ag::index_select(*t, 0, rows);
}

int64_t AttentionCache::bytes() const {
  return k.bytes() + v.bytes() + latent.bytes() + bytes_of(s) + bytes_of(z);
}

int64_t AttentionCache::capacity_bytes() const {
  return k.capacity_bytes() + v.capacity_bytes() + latent.capacity_bytes() + bytes_of(s) +
         bytes_of(z);
}

int64_t CrossMemory::frames() const { return latent.defined() ? latent.size(1) : k.size(2); }

int64_t CrossMemory::batch() const { return latent.defined() ? latent.size(0) : k.size(0); }

int64_t CrossMemory::bytes() const { return bytes_of(k) + bytes_of(v) + bytes_of(latent); }

int64_t BlockCache::conv_bytes() const { return bytes_of(conv); }

}  // namespace nn
