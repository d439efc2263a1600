#!/usr/bin/env bash
# The unit tests and the fuzz targets' corpora (seeds and past crashes) under AddressSanitizer
# + UndefinedBehaviorSanitizer (build-san/, see scripts/build-san.sh). The first finding ends
# the test that made it, and the run fails. Extra arguments go to ctest (e.g. -R asr_data).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build-san.sh
source scripts/sanitizer-env.sh
cd build-san
ctest --output-on-failure -j"$(nproc)" -L 'unit|fuzz' "$@"
