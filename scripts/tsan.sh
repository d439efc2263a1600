#!/usr/bin/env bash
# ThreadSanitizer over the code that runs threads: the OpenMP kernels (every autograd test, the
# optimizer's blocked gradient-norm sum, the encoder), the data loader's thread, asr-prepare's
# feature threads, the collective watchdog and the trainer that uses them all. The first data race
# or lock-order inversion ends the test that made it, and the run fails.
#   scripts/tsan.sh            build build-tsan/ (clang, -fsanitize=thread, CUDA off) and run them
#   scripts/tsan.sh TEST...    only the named ctest tests
# OpenMP: our kernels run on LLVM's libomp, whose synchronisation ThreadSanitizer sees through
# LLVM's Archer tool (OMP_TOOL_LIBRARIES); the runtime's own internals, not instrumented, are
# left out as Archer asks (ignore_noninstrumented_modules). 3 threads, so that every
# parallel_for splits even on a 2-core machine. OpenBLAS (the OpenMP build, on GCC's libgomp, not instrumented) runs
# single-threaded: its own threading is not ours to check.
set -euo pipefail
cd "$(dirname "$0")/.."
tests=(autograd_test_allocator autograd_test_autograd autograd_test_conv autograd_test_ctc
       autograd_test_dropout autograd_test_elementwise autograd_test_index autograd_test_matmul
       autograd_test_norm autograd_test_reduce autograd_test_rel_shift autograd_test_shape
       autograd_test_softmax nn_test_optim nn_test_encoder asr_data_test_loader
       asr_data_test_prepare distributed_test_watchdog asr_train_test_train_slow)
[ $# -gt 0 ] && tests=("$@")

archer=""
for dir in /usr/lib/llvm-*/lib; do
  [ -f "$dir/libarcher.so" ] && archer="$dir/libarcher.so"
done
if [ -z "$archer" ]; then
  echo "tsan.sh: LLVM's Archer (libarcher.so, Debian package libomp-dev) is missing" >&2
  exit 1
fi

cmake -S . -B build-tsan -DCMAKE_BUILD_TYPE=Debug \
  -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
  -DCMAKE_C_FLAGS_DEBUG="-O1 -g" -DCMAKE_CXX_FLAGS_DEBUG="-O1 -g" \
  -DLATENTASR_CUDA=OFF -DLATENTASR_NCCL=OFF -DLATENTASR_SANITIZE=thread >/dev/null
cmake --build build-tsan -j"$(nproc)" --target "${tests[@]}" asr-train asr-prepare

export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:ignore_noninstrumented_modules=1"
export OMP_TOOL_LIBRARIES="$archer" ARCHER_OPTIONS="verbose=1"
export OMP_NUM_THREADS=3 OPENBLAS_NUM_THREADS=1
# The canary: a race in our own parallel_for must be reported under these options.
clang++ -std=c++20 -O1 -g -fopenmp -fsanitize=thread -I. tests/sanitizer/tsan_canary.cpp \
  -o build-tsan/tsan_canary
if build-tsan/tsan_canary >build-tsan/tsan_canary.log 2>&1 ||
   ! grep -q "WARNING: ThreadSanitizer: data race" build-tsan/tsan_canary.log; then
  echo "tsan.sh: the canary's race was not reported (build-tsan/tsan_canary.log): these" \
       "options would hide races" >&2
  exit 1
fi
echo "tsan.sh: the canary's race was reported, as it must be" >&2
cd build-tsan
ctest --output-on-failure -R "^($(IFS='|'; echo "${tests[*]}"))\$"
