#include "cache_frames.h"

#include "autograd/ops.h"
#include "int8_quantization.h"

namespace nn {

void CacheFrames::set_int8(Scales scales) {
  AG_CHECK(frames() == 0 && !int8_, "CacheFrames: set_int8 after frames were appended");
  int8_ = true;
  scales_ = scales;
}

void CacheFrames::append(const Tensor& next) {
  AG_CHECK(next.dtype() == ag::DType::f32 && next.dim() >= 2, "CacheFrames: frames ",
           ag::shape_str(next.shape()), " must be float32 [..., T, K]");
  if (!int8_) {
    codes_.append(next);
    return;
  }
  AG_CHECK(next.device() == ag::Device::cpu, "CacheFrames: int8 caches are kept on the CPU");
  const int64_t T = next.size(-2), K = next.size(-1), M = next.numel() / (T * K);
  Tensor codes = ag::empty(next.shape(), ag::DType::u8);
  if (scales_ == Scales::per_token) {
    ag::Shape shape = next.shape();
    shape.back() = 1;
    Tensor s = ag::empty(shape);  // [..., T, 1]
    quantize_per_token(next.data(), M, T, K, codes.data_as<int8_t>(), s.data());
    token_scales_.append(s);
  } else {
    Tensor s = ag::empty({M, K});
    quantize_per_channel(next.data(), M, T, K, codes.data_as<int8_t>(), s.data());
    groups_.push_back({dropped_ + frames() + T, s});
  }
  codes_.append(codes);
}

void CacheFrames::keep_last(int64_t max_frames) {
  if (max_frames < 0 || frames() <= max_frames) return;
  dropped_ += frames() - max_frames;
  codes_.keep_last(max_frames);
  token_scales_.keep_last(max_frames);
  while (!groups_.empty() && groups_.front().end <= dropped_) groups_.pop_front();
}

void CacheFrames::select(const Tensor& rows) {
  AG_CHECK(!int8_, "CacheFrames: select takes float32 caches, not int8");
  codes_.select(rows);
}

void CacheFrames::dequantize(const Tensor& out) const {
  const HeldFrames& c = codes_.held();
  const int64_t cap = c.data.size(-2), K = c.data.size(-1), S = c.count;
  const int64_t M = c.data.numel() / (cap * K);
  const int8_t* q = c.data.data_as<int8_t>();
  float* o = out.data();
  if (scales_ == Scales::per_token) {
    const HeldFrames& s = token_scales_.held();
    const int64_t cap_s = s.data.size(-2);
    for (int64_t m = 0; m < M; ++m)
      for (int64_t r = 0; r < S; ++r) {
        const float scale = s.data.data()[m * cap_s + s.first + r];
        const int8_t* row = q + (m * cap + c.first + r) * K;
        for (int64_t k = 0; k < K; ++k) o[(m * S + r) * K + k] = scale * row[k];
      }
    return;
  }
  size_t g = 0;
  for (int64_t r = 0; r < S; ++r) {
    while (groups_[g].end <= dropped_ + r) ++g;
    const float* scale = groups_[g].scales.data();  // [M, K]
    for (int64_t m = 0; m < M; ++m) {
      const int8_t* row = q + (m * cap + c.first + r) * K;
      for (int64_t k = 0; k < K; ++k) o[(m * S + r) * K + k] = scale[m * K + k] * row[k];
    }
  }
}

HeldFrames CacheFrames::held() const {
  if (!int8_ || frames() == 0) return codes_.held();
  ag::Shape shape = codes_.held().data.shape();
  shape[shape.size() - 2] = frames();
  Tensor out = ag::empty(shape);
  dequantize(out);
  return HeldFrames::all(out);
}

Tensor CacheFrames::to_tensor() const {
  if (frames() == 0) return Tensor();
  return int8_ ? held().data : codes_.to_tensor();
}

int64_t CacheFrames::group_bytes() const {
  int64_t n = 0;
  for (const Group& g : groups_) n += g.scales.numel() * static_cast<int64_t>(sizeof(float));
  return n;
}

int64_t CacheFrames::bytes() const {
  return codes_.bytes() + token_scales_.bytes() + group_bytes();
}

int64_t CacheFrames::capacity_bytes() const {
  return codes_.capacity_bytes() + token_scales_.capacity_bytes() + group_bytes();
}

}  // namespace nn
