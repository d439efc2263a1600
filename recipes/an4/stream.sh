#!/usr/bin/env bash
# The streaming AN4 model (recipes/an4/stream.yaml), about as long as the demo's training on
# 2 CPU cores; then its dev WER offline and streaming (chunks of 16 and 4 encoder frames =
# 640 and 160 ms, all history and 4 chunks of history), in one table. Run scripts/demo.sh once
# first (it installs, builds and prepares data/an4). Extra arguments go to asr-train.
set -euo pipefail
cd "$(dirname "$0")/../.."
EXP=${EXP:-exp/an4_stream}
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}
start=$(date +%s)
[ -f "$EXP/model.avg.safetensors" ] ||
  build/bin/asr-train --config recipes/an4/stream.yaml --output-dir "$EXP" "$@"
model=$EXP/model.avg.safetensors
build/bin/asr-eval --checkpoint "$model" --data data/an4/dev --beam 10 --out "$EXP/eval_dev"
evals=("$EXP/eval_dev")
for chunk in 16 4; do
  for left in -1 4; do
    out=$EXP/eval_stream_c${chunk}_l${left}
    build/bin/asr-eval --checkpoint "$model" --data data/an4/dev --beam 10 --streaming \
      --chunk "$chunk" --left-chunks "$left" --out "$out"
    evals+=("$out")
  done
done
build/bin/asr-eval --compare "${evals[@]}"
echo "trained and evaluated in $(( $(date +%s) - start )) s"
