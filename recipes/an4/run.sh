#!/usr/bin/env bash
# The long AN4 recipe (recipes/an4/long.yaml): about 40 minutes on 2 idle CPU cores. Run
# scripts/demo.sh once first (it installs, builds and prepares data/an4).
# Hybrid CTC/attention variant: CONF=recipes/an4/long_hybrid.yaml EXP=exp/an4_long_hybrid;
# a hybrid model is evaluated with CTC prefix beam search, attention rescoring and joint
# CTC/attention decoding (eval_dev, eval_dev_attention_rescoring, eval_dev_joint), compared.
set -euo pipefail
cd "$(dirname "$0")/../.."
CONF=${CONF:-recipes/an4/long.yaml}
EXP=${EXP:-exp/an4_long}
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}
start=$(date +%s)
build/bin/asr-train --config "$CONF" --output-dir "$EXP" "$@"
build/bin/asr-eval --checkpoint "$EXP/model.avg.safetensors" --data data/an4/dev --beam 10 --out "$EXP/eval_dev"
rows=("$EXP/eval_dev")
if grep -q "^  decoder: transformer" "$CONF"; then
  for d in attention_rescoring joint; do
    build/bin/asr-eval --checkpoint "$EXP/model.avg.safetensors" --data data/an4/dev --beam 10 \
      --decode "$d" --out "$EXP/eval_dev_$d"
    rows+=("$EXP/eval_dev_$d")
  done
fi
build/bin/asr-eval --compare "${rows[@]}"
echo "trained and evaluated in $(( $(date +%s) - start )) s"
