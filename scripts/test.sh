#!/usr/bin/env bash
# The test command: installs the Debian packages, builds from scratch, runs ctest.
# LABELS selects tests by label (default: everything that needs no GPU), e.g.
#   LABELS=unit scripts/test.sh      LABELS='gpu' scripts/test.sh
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
rm -rf build
bash scripts/build.sh
cd build
if [ -n "${LABELS:-}" ]; then
  ctest --output-on-failure -j2 -L "$LABELS"
else
  ctest --output-on-failure -j2 -LE gpu
fi
