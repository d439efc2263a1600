#!/usr/bin/env bash
# The test command: installs the Debian packages, builds from scratch, runs ctest.
# LABELS selects tests by label (default: everything that needs no GPU), e.g.
#   LABELS=unit scripts/test.sh      LABELS='gpu' scripts/test.sh
# Without LABELS it then runs CI's share of the sanitizer build and the fuzz targets (about
# 10 minutes on 2 cores; SANITIZE=0 leaves it out): the unit tests of the parsers of outside
# input and each fuzz target over its corpus under ASan + UBSan, then each fuzz target for 5 s
# (a smoke run: the corpora hold every past crash; scripts/fuzz.sh 600 is the real fuzzing).
# scripts/sanitize.sh (every unit test) and scripts/fuzz.sh SECONDS run the whole of it.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
rm -rf build
bash scripts/build.sh
if [ -n "${LABELS:-}" ]; then
  (cd build && ctest --output-on-failure -j2 -L "$LABELS")
  exit 0
fi
(cd build && ctest --output-on-failure -j2 -LE gpu)
if [ "${SANITIZE:-1}" != 0 ]; then
  rm -rf build-san
  bash scripts/sanitize.sh asr_config_test_config asr_data_test_audio asr_data_test_corpus \
    asr_data_test_kaldi_dir asr_data_test_tokenizer nn_test_module \
    asr_train_test_checkpoint_keeper autograd_test_elementwise
  bash scripts/fuzz.sh 5
fi
