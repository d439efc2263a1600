#!/usr/bin/env bash
# Configures and builds the sanitizer build into build-san/: clang, AddressSanitizer +
# UndefinedBehaviorSanitizer, -O1 -g (assertions on), CUDA off, with the libFuzzer targets of
# tests/fuzz. Arguments name the targets to build (default: all).
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build-san -DCMAKE_BUILD_TYPE=Debug \
  -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
  -DCMAKE_C_FLAGS_DEBUG="-O1 -g" -DCMAKE_CXX_FLAGS_DEBUG="-O1 -g" \
  -DLATENTASR_CUDA=OFF -DLATENTASR_NCCL=OFF \
  -DLATENTASR_SANITIZE=address,undefined -DLATENTASR_FUZZ=ON >/dev/null
if [ $# -gt 0 ]; then
  cmake --build build-san -j"$(nproc)" --target "$@"
else
  cmake --build build-san -j"$(nproc)"
fi
