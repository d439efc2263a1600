#!/usr/bin/env bash
# Latent-dim ablation of MHA -> MLA conversion on AN4.
#
#   scripts/ablate_latent.sh [MHA_CHECKPOINT]      (default exp/an4_demo/model.avg.safetensors)
#
# For latent_dim in d/8, d/4, d/2, 3d/4, d (MLA, DeepSeek form, calibrated SVD) and GQA with 1
# and 2 key/value heads: convert, measure the relative logits error, the dev WER without
# fine-tuning, fine-tune STEPS steps (recipes/an4/finetune.yaml), the dev WER after, the
# streaming KV cache measured at 1000 frames and the streaming real-time factor. The MHA model
# fine-tuned for the same steps is a row too, so that gains from the extra training are not
# credited to MLA. Writes OUT/table.md, OUT/ablation.json and OUT/ablation.png.
#
# Every model is also decoded streaming (greedy, chunks of CHUNK frames with LEFT chunks of
# history): exact for a causal MHA checkpoint (a streaming model), timed but inexact otherwise.
#
# Environment: DATA (prepared data folder, default data/an4), OUT (default exp/ablate_latent),
# STEPS (fine-tuning steps, default 200), CHUNK (streaming chunk, default 16), LEFT (chunks of
# history, default -1: all), CALIBRATION (1: data-aware factorization on DATA/train, the
# default; 0: plain SVD), FT_ARGS (more asr-train arguments for the fine-tuning, e.g. for a
# streaming model "--set model.causal=true --set model.conv_norm=layer_norm
# --set train.dynamic_chunk=true").
set -euo pipefail
cd "$(dirname "$0")/.."
MHA=${1:-exp/an4_demo/model.avg.safetensors}
DATA=${DATA:-data/an4}
OUT=${OUT:-exp/ablate_latent}
STEPS=${STEPS:-200}
CHUNK=${CHUNK:-16}
LEFT=${LEFT:--1}
read -r -a ft_args <<< "${FT_ARGS:-}"
CALIBRATION=${CALIBRATION:-1}
BIN=build/bin
[ -f "$MHA" ] || { echo "ablate_latent: $MHA not found (run scripts/demo.sh first)" >&2; exit 1; }
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}
mkdir -p "$OUT"

# d_model from the checkpoint's embedded config (safetensors header, __metadata__.config).
D=$(/usr/bin/python3 - "$MHA" <<'EOF'
import json, re, struct, sys
with open(sys.argv[1], "rb") as f:
    header = json.loads(f.read(struct.unpack("<Q", f.read(8))[0]))
print(re.search(r"^\s*d_model:\s*(\d+)", header["__metadata__"]["config"], re.M).group(1))
EOF
)
calibrate=()
[ "$CALIBRATION" = 1 ] && calibrate=(--calibration "$DATA/train")

# evaluate NAME CKPT: offline WER (beam 10) and streaming WER, cache and RTF (greedy) as JSON
# files NAME.eval.json and NAME.stream.json.
evaluate() {
  "$BIN/asr-eval" --checkpoint "$2" --data "$DATA/dev" --beam 10 --json > "$OUT/$1.eval.json"
  "$BIN/asr-eval" --checkpoint "$2" --data "$DATA/dev" --beam 1 --streaming --chunk "$CHUNK" \
    --left-chunks "$LEFT" --json > "$OUT/$1.stream.json"
}

# finetune NAME CKPT TYPE [--set ...]: STEPS steps from CKPT, then evaluate the result.
finetune() {
  local name=$1 ckpt=$2 type=$3
  shift 3
  rm -rf "$OUT/$name.ft"
  "$BIN/asr-train" --config recipes/an4/finetune.yaml --init "$ckpt" --output-dir "$OUT/$name.ft" \
    --max-steps "$STEPS" --set schedule.total_steps="$STEPS" --set model.attention_type="$type" \
    --set data.train="$DATA/train" --set data.dev="$DATA/dev" "${ft_args[@]}" "$@" \
    > "$OUT/$name.ft.log" 2>&1
  evaluate "$name.ft" "$OUT/$name.ft/model.avg.safetensors"
}

# convert NAME ARGS...: asr-convert with the quality report, then evaluate.
convert() {
  local name=$1
  shift
  "$BIN/asr-convert" --input "$MHA" --output "$OUT/$name.safetensors" "$@" \
    --test-quality "$DATA/dev" --report "$OUT/$name.report.json" > "$OUT/$name.convert.log" 2>&1
  evaluate "$name" "$OUT/$name.safetensors"
}

rows=(mha)
evaluate mha "$MHA"
finetune mha "$MHA" mha
for frac in 1/8 1/4 1/2 3/4 1; do
  r=$((D * ${frac%/*} / ${frac#*/}))
  name=mla_r$r
  echo "ablate_latent: $name" >&2
  convert "$name" --to mla --latent-dim "$r" "${calibrate[@]}"
  finetune "$name" "$OUT/$name.safetensors" mla --set model.attention_kwargs.latent_dim="$r"
  rows+=("$name")
done
for g in 1 2; do
  name=gqa_kv$g
  echo "ablate_latent: $name" >&2
  convert "$name" --to gqa --kv-heads "$g"
  finetune "$name" "$OUT/$name.safetensors" gqa --set model.attention_kwargs.num_kv_heads="$g"
  rows+=("$name")
done

/usr/bin/python3 scripts/ablation_table.py "$OUT" "${rows[@]}"
echo "ablate_latent: $OUT/table.md  $OUT/ablation.png" >&2
cat "$OUT/table.md"
