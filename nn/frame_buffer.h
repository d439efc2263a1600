// The frames a streaming cache holds, along dim -2 of a buffer with spare capacity, so that a
// chunk appends only its own frames: the buffer grows by doubling, and a finite history moves
// its frames back to the front only when they reach the end. A stream of N frames copies O(N)
// frames in all (whole-history concatenation each chunk copied O(N^2)).
#pragma once
#include "autograd/tensor.h"

namespace nn {

using ag::Tensor;

// Frames [first, first + count) along dim -2 of data [..., capacity, K], read in place.
struct HeldFrames {
  Tensor data;
  int64_t first = 0, count = 0;
  // All frames of t [..., N, K].
  static HeldFrames all(const Tensor& t) { return {t, 0, t.size(-2)}; }
};

// a times the held frames h [..., count, K] (batch dims as ag::matmul_window's): trans_b:
// a [..., M, K] -> a h^T [..., M, count]; else a [..., M, count] -> a h [..., M, K].
// ag::matmul (with gradients) when h is all of its data, else ag::matmul_window.
Tensor matmul_held(const Tensor& a, const HeldFrames& h, bool trans_b);

// Frames of any dtype (float32, or uint8 storage for int8 codes). Move-only: a copy would
// share the storage, and its appends would overwrite the other's spare rows.
class FrameBuffer {
 public:
  FrameBuffer() = default;
  FrameBuffer(const FrameBuffer&) = delete;
  FrameBuffer& operator=(const FrameBuffer&) = delete;
  FrameBuffer(FrameBuffer&&) = default;
  FrameBuffer& operator=(FrameBuffer&&) = default;

  // Appends next [..., T, K] after the held frames (same leading dims, K and dtype as before).
  void append(const Tensor& next);
  // Drops all but the last max_frames frames (none when max_frames < 0).
  void keep_last(int64_t max_frames);
  // Keeps the streams `rows` of dim 0 (the batch), in that order, repeats allowed (a beam's
  // surviving hypotheses): rows int64 [N] -> the buffer [N, ..., capacity, K] (float32 only).
  void select(const Tensor& rows);

  int64_t frames() const { return held_.count; }
  const HeldFrames& held() const { return held_; }
  // The held frames as a tensor [..., frames, K] (a copy); undefined when none were appended.
  Tensor to_tensor() const;
  // Bytes of the held frames, and of the whole buffer (at most about twice as many).
  int64_t bytes() const;
  int64_t capacity_bytes() const;
  // Elements copied into the buffer so far: appended frames and moved history.
  int64_t copied_elements() const { return copied_elements_; }

 private:
  // Copies the held frames to rows [0, frames) of `to` [..., capacity', K] (another buffer, or
  // the front of this one when they do not overlap).
  void move_held(const Tensor& to);

  HeldFrames held_;
  int64_t copied_elements_ = 0;
};

}  // namespace nn
