#!/usr/bin/env bash
# The GPU tests (ctest -L gpu) in an existing build folder, on a machine with a GPU, then the
# training-step timing of issue #8: bench_train_step and bench/train_step_pytorch.py (PyTorch
# eager) at the benchmark size on CUDA, side by side (ms/step and their ratio; the goal is a
# ratio <= 1). The exit status is the tests'.
#
#   scripts/gpu-check.sh [build-dir]            # run them (default build-dir: build)
#   scripts/gpu-check.sh --collect [build-dir]  # on the build machine: copy the shared
#                                               # libraries the GPU tests need into
#                                               # <build-dir>/carried-libs
#
# Timing settings (environment): BENCH_WARMUP (default 2) and BENCH_STEPS (5) steps per side,
# BENCH_TF32=1 for TF32 matmuls on both sides, BENCH_ARGS for other sizes (default: the
# issue's 12 layers, d_model 256, batch 32 x 250 frames), BENCH_DEVICE (cuda), PYTHON (the
# interpreter with PyTorch, default python3), BENCH=0 to skip the timing.
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
bench_bin=$build/bench/bench_train_step
[ -x "$bench_bin" ] && tests="$tests $bench_bin"

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
root=$(pwd)
cd "$build"
# The tests skip themselves without a GPU; here that must be a failure, not a quiet pass.
status=0
LATENTASR_REQUIRE_GPU=1 ctest -L gpu --output-on-failure || status=$?

[ "${BENCH:-1}" = 0 ] && exit "$status"
if [ ! -x "$bench_bin" ]; then
  echo "gpu-check: no $bench_bin (make bench_train_step); timing skipped" >&2
  exit "$status"
fi
device=${BENCH_DEVICE:-cuda}
# shellcheck disable=SC2206
args=(--device "$device" --warmup "${BENCH_WARMUP:-2}" --steps "${BENCH_STEPS:-5}" ${BENCH_ARGS:-})
[ "${BENCH_TF32:-0}" = 1 ] && args+=(--tf32)
echo "gpu-check: training step, ${args[*]}"
ours=$(timeout 150 "$bench_bin" "${args[@]}" | tee /dev/stderr | tail -n 1) || ours=
theirs=$(timeout 150 "${PYTHON:-python3}" "$root/bench/train_step_pytorch.py" "${args[@]}" |
         tee /dev/stderr | tail -n 1) || theirs=
"${PYTHON:-python3}" - "$ours" "$theirs" <<'EOF' || true
import json, sys
def read(line):
    try:
        return json.loads(line)
    except ValueError:
        return None
ours, theirs = read(sys.argv[1]), read(sys.argv[2])
if not ours or not theirs:
    sys.exit("gpu-check: a side of the timing failed (see above); no ratio")
print(f"{'':24}{'latentasr':>12}{'PyTorch ' + theirs.get('torch', ''):>22}")
print(f"{'parameters':24}{ours['params']:>12}{theirs['params']:>22}")
print(f"{'ms/step (' + ours['device'] + ')':24}{ours['ms']:>12.2f}{theirs['ms']:>22.2f}")
print(f"ratio latentasr / PyTorch eager: {ours['ms'] / theirs['ms']:.2f} (goal <= 1)")
if ours["params"] != theirs["params"]:
    print("gpu-check: warning: the two models' parameter counts differ")
EOF
exit "$status"
