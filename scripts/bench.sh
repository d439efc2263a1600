#!/usr/bin/env bash
# Installs, builds, and runs the benchmarks beside PyTorch (bench/*.py), printing their
# tables and `ratio ...` lines, then the streaming benchmark (ours only: variants against MHA).
# Run it on an otherwise idle machine.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh --bench
bash scripts/build.sh
/usr/bin/python3 bench/core.py
/usr/bin/python3 bench/attention.py
/usr/bin/python3 bench/conformer.py
/usr/bin/python3 bench/fbank.py
OMP_NUM_THREADS=1 build/bench/bench_streaming
build/bench/bench_ops
