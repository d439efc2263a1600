// The frames of one streaming-cache tensor (keys, values or latents): float32 in a
// FrameBuffer, or int8 codes with their scales (int8_quantization.h): per token, one scale per
// frame and matrix, kept beside the codes; per channel, one scale per channel and matrix for
// each appended chunk (KIVI's groups of tokens are the chunks here). Scales count in bytes().
#pragma once
#include <deque>

#include "frame_buffer.h"

namespace nn {

enum class CacheDtype { f32, int8 };

class CacheFrames {
 public:
  enum class Scales { per_token, per_channel };

  // Stores int8 codes from now on; before the first append.
  void set_int8(Scales scales);
  bool int8() const { return int8_; }

  // Appends next [..., T, K] float32 (on the CPU when int8) after the held frames.
  void append(const Tensor& next);
  // Drops all but the last max_frames frames (none when max_frames < 0).
  void keep_last(int64_t max_frames);
  // FrameBuffer::select (float32 frames only).
  void select(const Tensor& rows);
  int64_t frames() const { return codes_.frames(); }
  // The held frames for the attention [..., frames, K]: float32 in place, or the int8 codes
  // dequantized into a new tensor (a multiply per element of the history, each chunk).
  HeldFrames held() const;
  // held() as a tensor of its own (a copy for float32); undefined when nothing was appended.
  Tensor to_tensor() const;
  // Bytes of the held frames with their scales, and of the whole buffers.
  int64_t bytes() const;
  int64_t capacity_bytes() const;

 private:
  // Dequantizes the held codes into out [..., frames, K].
  void dequantize(const Tensor& out) const;
  int64_t group_bytes() const;

  bool int8_ = false;
  Scales scales_ = Scales::per_token;
  FrameBuffer codes_;         // float32 frames, or int8 codes in uint8 storage
  FrameBuffer token_scales_;  // per token: [..., S, 1]
  // Per channel: the scales [matrices, K] of the frames appended together, which end before
  // stream frame `end`; the oldest first.
  struct Group {
    int64_t end;
    Tensor scales;
  };
  std::deque<Group> groups_;
  int64_t dropped_ = 0;  // frames dropped from the front so far
};

}  // namespace nn
