#!/usr/bin/env bash
# The long AN4 recipe (recipes/an4/long.yaml): several hours on 2 CPU cores. Run
# scripts/demo.sh once first (it installs, builds and prepares data/an4).
set -euo pipefail
cd "$(dirname "$0")/../.."
EXP=${EXP:-exp/an4_long}
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}
start=$(date +%s)
build/bin/asr-train --config recipes/an4/long.yaml --output-dir "$EXP" "$@"
build/bin/asr-eval --checkpoint "$EXP/model.avg.safetensors" --data data/an4/dev --beam 10 --out "$EXP/eval_dev"
build/bin/asr-eval --compare "$EXP/eval_dev"
echo "trained and evaluated in $(( $(date +%s) - start )) s"
