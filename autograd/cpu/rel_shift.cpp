// CPU relative-position shift: one contiguous window copy per query row.
#include <algorithm>

#include "../kernels/rel_shift.h"
#include "parallel.h"

namespace ag::cpu {
namespace {

constexpr int64_t kGrain = 1 << 15;  // elements per thread below which we stay serial

void rel_shift(const float* x, float* y, int64_t n, int64_t t, int64_t p) {
  const int64_t s = p - t + 1;
  parallel_for(n * t, std::max<int64_t>(1, kGrain / std::max<int64_t>(s, 1)),
               [&](int64_t b, int64_t e) {
                 for (int64_t r = b; r < e; ++r) {
                   const int64_t i = r % t;
                   const float* src = x + r * p + (t - 1 - i);
                   std::copy(src, src + s, y + r * s);
                 }
               });
}

void rel_shift_backward(const float* gy, float* gx, int64_t n, int64_t t, int64_t p) {
  const int64_t s = p - t + 1;
  parallel_for(n * t, std::max<int64_t>(1, kGrain / std::max<int64_t>(p, 1)),
               [&](int64_t b, int64_t e) {
                 for (int64_t r = b; r < e; ++r) {
                   const int64_t i = r % t, start = t - 1 - i;
                   float* dst = gx + r * p;
                   std::fill(dst, dst + start, 0.0f);
                   std::copy(gy + r * s, gy + (r + 1) * s, dst + start);
                   std::fill(dst + start + s, dst + p, 0.0f);
                 }
               });
}

}  // namespace
}  // namespace ag::cpu

namespace ag::kernels {
KernelTable<RelShiftFn> rel_shift{"rel_shift", {&cpu::rel_shift, nullptr}};
KernelTable<RelShiftBackwardFn> rel_shift_backward{"rel_shift_backward",
                                                    {&cpu::rel_shift_backward, nullptr}};
}  // namespace ag::kernels
