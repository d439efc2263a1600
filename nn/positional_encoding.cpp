#include "positional_encoding.h"

#include <cmath>

#include "autograd/ops.h"

namespace nn {
namespace {
// Rows for positions first, first + step, ... (count rows): sin/cos interleaved. [1, count, d]
Tensor sinusoids(int64_t first, int64_t step, int64_t count, int64_t d) {
  Tensor t = ag::empty({1, count, d});
  float* p = t.data();
  for (int64_t r = 0; r < count; ++r) {
    const double pos = static_cast<double>(first + step * r);
    for (int64_t i = 0; i < d; i += 2) {
      const double w = std::exp(-static_cast<double>(i) * std::log(10000.0) / static_cast<double>(d));
      p[r * d + i] = static_cast<float>(std::sin(pos * w));
      if (i + 1 < d) p[r * d + i + 1] = static_cast<float>(std::cos(pos * w));
    }
  }
  return t;
}

void check_input(const Tensor& x, int64_t d, const char* what) {
  AG_CHECK(x.dim() == 3 && x.size(2) == d, what, ": input ", ag::shape_str(x.shape()),
           " must be [B, T, ", d, "]");
}
}  // namespace

PositionalEncoding::PositionalEncoding(int64_t d_model, float dropout)
    : d_model_(d_model), dropout_(dropout) {
  AG_CHECK(d_model > 0, "PositionalEncoding: d_model ", d_model, " must be positive");
}

Tensor PositionalEncoding::forward(const Tensor& x, int64_t offset) {
  check_input(x, d_model_, "PositionalEncoding");
  AG_CHECK(offset >= 0, "PositionalEncoding: offset ", offset, " must not be negative");
  const int64_t T = x.size(1);
  // A full-pass table grows to exactly T, a streaming one by doubling.
  const int64_t rows = offset == 0 ? T : 2 * (offset + T);
  if (!table_.defined() || table_.size(1) < offset + T) table_ = sinusoids(0, 1, rows, d_model_);
  if (table_.device() != x.device()) table_ = ag::to_device(table_, x.device());
  Tensor pe = table_.size(1) == T ? table_ : ag::narrow(table_, 1, offset, T);  // [1, T, d]
  Tensor y = ag::mul(x, std::sqrt(static_cast<float>(d_model_))) + pe;           // [B, T, d]
  return ag::dropout(y, dropout_, is_training());
}

RelPositionalEncoding::RelPositionalEncoding(int64_t d_model, float dropout)
    : d_model_(d_model), dropout_(dropout) {
  AG_CHECK(d_model > 0, "RelPositionalEncoding: d_model ", d_model, " must be positive");
}

Tensor RelPositionalEncoding::table(int64_t P, ag::Device device) {
  AG_CHECK(P >= 1, "RelPositionalEncoding: table of ", P, " positions");
  int64_t have = table_.defined() ? (table_.size(1) + 1) / 2 : 0;
  if (have < P) {
    table_ = sinusoids(P - 1, -1, 2 * P - 1, d_model_);
    have = P;
  }
  if (table_.device() != device) table_ = ag::to_device(table_, device);
  // Position p sits at row have-1-p.
  return have == P ? table_ : ag::narrow(table_, 1, have - P, 2 * P - 1);  // [1, 2P-1, d]
}

Tensor RelPositionalEncoding::scale(const Tensor& x) {
  check_input(x, d_model_, "RelPositionalEncoding");
  return ag::dropout(ag::mul(x, std::sqrt(static_cast<float>(d_model_))), dropout_, is_training());
}

std::pair<Tensor, Tensor> RelPositionalEncoding::forward(const Tensor& x) {
  Tensor y = scale(x);  // [B, T, d]
  return {y, ag::dropout(table(x.size(1), x.device()), dropout_, is_training())};
}

}  // namespace nn
