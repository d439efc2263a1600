// A deliberate data race through ag::cpu::parallel_for (every thread adds into one double):
// scripts/tsan.sh runs it first and requires ThreadSanitizer to report it, so that a run
// whose options hid races in our OpenMP code (Archer missing, modules ignored too widely)
// cannot pass as clean.
#include <cstdio>

#include "autograd/cpu/parallel.h"

int main() {
  double total = 0;
  ag::cpu::parallel_for(1 << 16, 1024, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) total += 1.0;
  });
  std::printf("%f\n", total);
}
