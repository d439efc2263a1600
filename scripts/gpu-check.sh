#!/usr/bin/env bash
# The GPU tests (ctest -L gpu) in an existing build folder, on a machine with a GPU.
#
#   scripts/gpu-check.sh [build-dir]            # run them (default build-dir: build)
#   scripts/gpu-check.sh --collect [build-dir]  # on the build machine: copy the shared
#                                               # libraries the GPU tests need into
#                                               # <build-dir>/carried-libs
#
# A build made on one machine and run on another (a GPU machine without this project's
# Debian packages) finds the libraries it lacks in CARRIED_LIBS (default
# <build-dir>/carried-libs), which goes first on LD_LIBRARY_PATH, with /usr/local/cuda/lib64
# after it. --collect skips glibc (the GPU machine has its own) and the CUDA toolkit's
# libraries (cudart, cublas: too large to carry; the GPU machine's toolkit provides them).
set -euo pipefail
cd "$(dirname "$0")/.."

collect=0
if [ "${1:-}" = "--collect" ]; then
  collect=1
  shift
fi
build=${1:-build}
[ -f "$build/CTestTestfile.cmake" ] || { echo "gpu-check: $build is not a configured build folder" >&2; exit 2; }
build=$(cd "$build" && pwd)
carried=${CARRIED_LIBS:-$build/carried-libs}
tests=$(find "$build/tests" -maxdepth 1 -type f -name 'gpu_test_*' -perm -u+x | sort)
[ -n "$tests" ] || { echo "gpu-check: no gpu_test_* binaries in $build/tests (configured with LATENTASR_CUDA=OFF, or not built?)" >&2; exit 2; }

if [ "$collect" = 1 ]; then
  mkdir -p "$carried"
  # shellcheck disable=SC2086
  ldd $tests | awk '/=> \// { print $3 }' | sort -u | while read -r lib; do
    case "$(basename "$lib")" in
      libc.so*|libm.so*|libdl.so*|librt.so*|libpthread.so*|ld-linux*|libcuda.so*) continue ;;
      libcudart*|libcublas*) continue ;;
    esac
    cp -L "$lib" "$carried/"
  done
  echo "gpu-check: carried $(ls "$carried" | wc -l) libraries, $(du -sh "$carried" | cut -f1), in $carried"
  exit 0
fi

export LD_LIBRARY_PATH="$carried:/usr/local/cuda/lib64${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
missing=0
for t in $tests; do
  if ldd "$t" | grep -q 'not found'; then
    echo "gpu-check: $(basename "$t") lacks:" >&2
    ldd "$t" | grep 'not found' >&2
    missing=1
  fi
done
[ "$missing" = 0 ] || { echo "gpu-check: carry them (--collect on the build machine) or install them" >&2; exit 2; }
if command -v nvidia-smi >/dev/null; then
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
else
  echo "gpu-check: no nvidia-smi on this machine; the tests will say whether a GPU answers"
fi
cd "$build"
# The tests skip themselves without a GPU; here that must be a failure, not a quiet pass.
LATENTASR_REQUIRE_GPU=1 ctest -L gpu --output-on-failure
