#!/usr/bin/env bash
# Configures and builds latentasr (Release) into build/. Extra args go to cmake's configure
# step; BUILD_TARGETS="asr-train asr-eval" builds only those targets.
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release "$@" >/dev/null
if [ -n "${BUILD_TARGETS:-}" ]; then
  # shellcheck disable=SC2086
  cmake --build build -j"$(nproc)" --target $BUILD_TARGETS
else
  cmake --build build -j"$(nproc)"
fi
