#!/usr/bin/env bash
# Tests under AddressSanitizer + UndefinedBehaviorSanitizer (build-san/, scripts/build-san.sh);
# the first finding ends the test that made it, and the run fails.
#   scripts/sanitize.sh              every unit test, and each fuzz target over its corpus
#                                    (seeds and past crashes): ctest -L 'unit|fuzz'
#   scripts/sanitize.sh TEST...      only the named ctest tests, and the fuzz targets' corpora
#                                    (builds only those: CI's subset, see scripts/test.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/sanitizer-env.sh
if [ $# -gt 0 ]; then
  bash scripts/build-san.sh "$@" "${fuzz_names[@]/#/fuzz_}"
  select=(-R "^($(IFS='|'; echo "$*"))\$|^fuzz_")
else
  bash scripts/build-san.sh
  select=(-L 'unit|fuzz')
fi
cd build-san
ctest --output-on-failure -j"$(nproc)" "${select[@]}" -LE mpi
# Open MPI's leaks (suppressed) are only recognised with allocations unwound the slow way, through
# its libraries built without frame pointers; that slows a test 2-3 times, so only these run so.
ASAN_OPTIONS="$ASAN_OPTIONS:fast_unwind_on_malloc=0" \
  ctest --output-on-failure -j"$(nproc)" "${select[@]}" -L mpi --no-tests=ignore
