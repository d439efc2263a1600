#include "frame_buffer.h"

#include "autograd/copy.h"
#include "autograd/ops.h"

namespace nn {

namespace {
// Matrices [rows, K] along dims -2, -1 of t.
int64_t matrices(const Tensor& t) { return t.numel() / (t.size(-2) * t.size(-1)); }
// Element e of t, as raw bytes.
char* at(const Tensor& t, int64_t e) {
  return static_cast<char*>(t.raw()) + e * static_cast<int64_t>(ag::dtype_size(t.dtype()));
}
}  // namespace

Tensor matmul_held(const Tensor& a, const HeldFrames& h, bool trans_b) {
  if (h.first == 0 && h.count == h.data.size(-2)) return ag::matmul(a, h.data, false, trans_b);
  return ag::matmul_window(a, h.data, h.first, h.count, trans_b);
}

void FrameBuffer::move_held(const Tensor& to) {
  const Tensor& from = held_.data;
  const int64_t K = from.size(-1), cap_from = from.size(-2), cap_to = to.size(-2);
  const size_t bytes = static_cast<size_t>(held_.count * K) * ag::dtype_size(from.dtype());
  for (int64_t m = 0; m < matrices(from); ++m)
    ag::copy_bytes(at(to, m * cap_to * K), to.device(),
                   at(from, (m * cap_from + held_.first) * K), from.device(), bytes);
  copied_elements_ += matrices(from) * held_.count * K;
  held_.first = 0;
}

void FrameBuffer::append(const Tensor& next) {
  AG_CHECK(next.dim() >= 2, "FrameBuffer: frames ", ag::shape_str(next.shape()),
           " need a frame dim and a feature dim");
  const int64_t T = next.size(-2), K = next.size(-1);
  if (!held_.data.defined()) {
    held_.data = ag::empty(next.shape(), next.dtype(), next.device());
  } else {
    ag::Shape expect = held_.data.shape();
    expect[expect.size() - 2] = T;
    AG_CHECK(next.shape() == expect && next.dtype() == held_.data.dtype(), "FrameBuffer: frames ",
             ag::shape_str(next.shape()), " do not continue the held ",
             ag::shape_str(held_.data.shape()),
             " (all dims but the frames' and the dtype must match)");
  }
  const int64_t capacity = held_.data.size(-2), needed = held_.count + T;
  if (held_.first + needed > capacity) {
    if (2 * needed <= capacity) {
      // Half free or more: move to the front (the held frames lie past the middle, so the
      // ranges do not overlap).
      move_held(held_.data);
    } else {
      ag::Shape shape = held_.data.shape();
      shape[shape.size() - 2] = 2 * needed;
      Tensor grown = ag::empty(shape, held_.data.dtype(), held_.data.device());
      move_held(grown);
      held_.data = grown;
    }
  }
  const int64_t cap = held_.data.size(-2), end = held_.first + held_.count;
  const size_t bytes = static_cast<size_t>(T * K) * ag::dtype_size(next.dtype());
  for (int64_t m = 0; m < matrices(next); ++m)
    ag::copy_bytes(at(held_.data, (m * cap + end) * K), held_.data.device(),
                   at(next, m * T * K), next.device(), bytes);
  copied_elements_ += next.numel();
  held_.count += T;
}

void FrameBuffer::keep_last(int64_t max_frames) {
  if (max_frames < 0 || held_.count <= max_frames) return;
  held_.first += held_.count - max_frames;
  held_.count = max_frames;
}

void FrameBuffer::select(const Tensor& rows) {
  if (!held_.data.defined()) return;
  AG_CHECK(held_.data.dtype() == ag::DType::f32, "FrameBuffer: select takes float32 frames, ",
           "not ", ag::dtype_name(held_.data.dtype()));
  ag::NoGradGuard no_grad;
  held_.data = ag::index_select(held_.data, 0, rows);
  copied_elements_ += held_.data.numel();
}

Tensor FrameBuffer::to_tensor() const {
  if (!held_.data.defined()) return Tensor();
  return ag::narrow(held_.data, held_.data.dim() - 2, held_.first, held_.count);
}

int64_t FrameBuffer::bytes() const {
  if (!held_.data.defined()) return 0;
  return matrices(held_.data) * held_.count * held_.data.size(-1) *
         static_cast<int64_t>(ag::dtype_size(held_.data.dtype()));
}

int64_t FrameBuffer::capacity_bytes() const {
  if (!held_.data.defined()) return 0;
  return held_.data.numel() * static_cast<int64_t>(ag::dtype_size(held_.data.dtype()));
}

}  // namespace nn
