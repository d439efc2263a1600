#!/usr/bin/env bash
# Recovery fine-tuning of a converted model at equal steps: all parameters, only the latent
# projections (train.trainable_param), and all with distillation from the MHA model
# (train.distill.*), beside the MHA model fine-tuned for the same steps. docs/training.md,
# docs/conversion.md.
#
#   scripts/recovery.sh CONVERTED REPORT [MHA_CHECKPOINT]
#
# CONVERTED: an asr-convert --to mla_simple output; REPORT: its --report JSON (for the ranks);
# MHA_CHECKPOINT (default exp/an4_demo/model.avg.safetensors): the teacher. Each run trains
# STEPS steps (default 80) with recipes/an4/finetune.yaml; the dev loss and WER (greedy) after
# the last step of each go to OUT/table.md.
#
# Environment: OUT (default exp/recovery), STEPS (default 80), WEIGHT (distillation weight,
# default 1), TEMPERATURE (default 1).
set -euo pipefail
cd "$(dirname "$0")/.."
CONVERTED=$1
REPORT=$2
MHA=${3:-exp/an4_demo/model.avg.safetensors}
OUT=${OUT:-exp/recovery}
STEPS=${STEPS:-80}
WEIGHT=${WEIGHT:-1}
TEMPERATURE=${TEMPERATURE:-1}
mkdir -p "$OUT"
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}
dims=$(/usr/bin/python3 -c "import json, sys; print([l['latent_dim'] for l in json.load(open(sys.argv[1]))['layers']])" "$REPORT")
largest=$(/usr/bin/python3 -c "print(max($dims))")

# finetune NAME INIT [--set ...]
finetune() {
  local name=$1 init=$2
  shift 2
  rm -rf "${OUT:?}/$name"
  build/bin/asr-train --config recipes/an4/finetune.yaml --init "$init" --output-dir "$OUT/$name" \
    --max-steps "$STEPS" --set schedule.total_steps="$STEPS" --set train.validate_every="$STEPS" \
    "$@" 2> "$OUT/$name.log"
}
mla=(--set model.attention_type=mla_simple --set model.attention_kwargs.latent_dim="$largest"
     --set "model.attention_kwargs.latent_dims=$dims")
finetune mha "$MHA"  # the same steps for the MHA model: what extra training alone gives
finetune all "$CONVERTED" "${mla[@]}"
finetune latent_only "$CONVERTED" "${mla[@]}" \
  --set "train.trainable_param=['*.linear_dkv', '*.linear_uk', '*.linear_uv']"
finetune distill "$CONVERTED" "${mla[@]}" --set train.distill.teacher="$MHA" \
  --set train.distill.weight="$WEIGHT" --set train.distill.temperature="$TEMPERATURE"

/usr/bin/python3 - "$OUT" "$REPORT" "$STEPS" > "$OUT/table.md" <<'PY'
import json, sys
out, report, steps = sys.argv[1], json.load(open(sys.argv[2])), sys.argv[3]
print(f"| fine-tuning ({steps} steps) | dev loss | dev WER % (greedy) |")
print("|---|---|---|")
print(f"| none (MHA) | | {100 * report['wer_before']:.2f} |")
print(f"| none (converted) | | {100 * report['wer_after']:.2f} |")
for name in ("mha", "all", "latent_only", "distill"):
    dev = [json.loads(l) for l in open(f"{out}/{name}/metrics.jsonl") if '"dev"' in l]
    print(f"| {name} | {dev[-1]['loss']:.2f} | {100 * dev[-1]['wer']:.2f} |")
PY
cat "$OUT/table.md"
