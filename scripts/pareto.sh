#!/usr/bin/env bash
# Cache bytes against WER for a streaming MHA model: every way this project has of shrinking the
# attention cache, decoded the same way (streaming, chunks of CHUNK encoder frames, beam BEAM),
# each WER difference with its 95% CI (asr-eval --compare: paired bootstrap over utterances,
# MAPSSWE p) against MHA as it is (the rows as converted) or against MHA fine-tuned alike (the
# fine-tuned rows).
#
#   scripts/pareto.sh MHA_CHECKPOINT
#
# Rows: MHA in fp32 and int8, MHA with a window of the last 4 and 1 chunks of history, the
# cached layer input (asr-convert --cache-input, exact), GQA with 2 and 1 key/value heads (mean
# pooling), calibrated MLA at uniform latents d/2 ... d/16 and budgeted at 1/8 and 1/16 of the MHA
# fp32 bytes, the MLA rows in int8 too; then the MHA model and the 1/8 and 1/16 conversions
# and GQA-1 fine-tuned STEPS steps each alike (recipes/an4/finetune.yaml with FT_ARGS), in fp32
# and int8, and the fine-tuned MHA model with windows of 4 and 1 chunks. Cache bytes are those measured after 1000 frames of one stream, int8 scales
# included. Writes OUT/before.md and OUT/after.md (asr-eval --compare), their --json forms
# OUT/before.json and OUT/after.json, and OUT/pareto.png and OUT/pareto_cer.png (WER, CER:
# scripts/pareto_plot.py).
#
# Environment: DATA (prepared data folder, default data/an4), OUT (default exp/pareto), CHUNK
# (default 16), BEAM (default 10), STEPS (default 100), FT_ARGS (asr-train arguments the
# fine-tuning needs for this model, e.g. "--set model.causal=true --set model.conv_norm=layer_norm
# --set train.dynamic_chunk=true" for recipes/an4/stream.yaml's model), CONVERT_ARGS (more
# asr-convert arguments for every MLA conversion, e.g. "--calibration-chunk 16").
set -euo pipefail
MHA=$(realpath "${1:?usage: scripts/pareto.sh MHA_CHECKPOINT}")
cd "$(dirname "$0")/.."

DATA=${DATA:-data/an4}
OUT=${OUT:-exp/pareto}
CHUNK=${CHUNK:-16}
BEAM=${BEAM:-10}
STEPS=${STEPS:-100}
read -r -a ft_args <<< "${FT_ARGS:-}"
read -r -a convert_args <<< "${CONVERT_ARGS:-}"
BIN=build/bin
[ -f "$MHA" ] || { echo "pareto: $MHA not found" >&2; exit 1; }
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}
mkdir -p "$OUT"
D=$(/usr/bin/python3 scripts/checkpoint_config.py "$MHA" model.d_model)
before=()  # the rows as converted, first MHA as it is
after=()   # the rows fine-tuned alike, first MHA fine-tuned

# decode NAME CKPT [asr-eval arguments]: streaming decode into OUT/NAME (eval.json, trn files).
decode() {
  local name=$1 ckpt=$2
  shift 2
  echo "pareto: $name" >&2
  "$BIN/asr-eval" --checkpoint "$ckpt" --data "$DATA/dev" --beam "$BEAM" --streaming \
    --chunk "$CHUNK" --out "$OUT/$name" "$@" > "$OUT/$name.log"
  case $name in
    *_ft*) after+=("$OUT/$name") ;;
    *) before+=("$OUT/$name") ;;
  esac
}

# convert NAME ARGS...: asr-convert into OUT/NAME.safetensors (report NAME.report.json).
convert() {
  local name=$1
  shift
  "$BIN/asr-convert" --input "$MHA" --output "$OUT/$name.safetensors" "$@" \
    --report "$OUT/$name.report.json" > "$OUT/$name.convert.log" 2>&1
}

# finetune NAME CKPT: STEPS steps from CKPT with its own attention settings.
finetune() {
  local name=$1 ckpt=$2
  local kwargs
  kwargs=$(/usr/bin/python3 scripts/checkpoint_config.py "$ckpt" --set-args)
  rm -rf "$OUT/$name.train"
  # shellcheck disable=SC2086  # kwargs: the --set arguments of the converted attention
  "$BIN/asr-train" --config recipes/an4/finetune.yaml --init "$ckpt" --output-dir "$OUT/$name.train" \
    --max-steps "$STEPS" --set schedule.total_steps="$STEPS" --set data.train="$DATA/train" \
    --set data.dev="$DATA/dev" "${ft_args[@]}" $kwargs > "$OUT/$name.train.log" 2>&1
}

decode mha "$MHA"
decode mha_int8 "$MHA" --cache-dtype int8
decode mha_win4 "$MHA" --left-chunks 4
decode mha_win1 "$MHA" --left-chunks 1
convert cache_x --to mla --cache-input
decode cache_x "$OUT/cache_x.safetensors"
for g in 2 1; do
  convert "gqa_kv$g" --to gqa --kv-heads "$g"
  decode "gqa_kv$g" "$OUT/gqa_kv$g.safetensors"
done
mla=()
for div in 2 4 8 16; do
  r=$((D / div))
  convert "mla_l$r" --to mla --latent-dim "$r" --calibration "$DATA/train" "${convert_args[@]}"
  mla+=("mla_l$r")
done
for frac in 8 16; do
  convert "mla_b$frac" --to mla --cache-fraction "$(/usr/bin/python3 -c "print(1/$frac)")" \
    --calibration "$DATA/train" "${convert_args[@]}"
  mla+=("mla_b$frac")
done
for name in "${mla[@]}"; do
  decode "$name" "$OUT/$name.safetensors"
  decode "${name}_int8" "$OUT/$name.safetensors" --cache-dtype int8
done

finetune mha_ft "$MHA"
for name in mla_b8 mla_b16 gqa_kv1; do finetune "${name}_ft" "$OUT/$name.safetensors"; done
for name in mha_ft mla_b8_ft mla_b16_ft gqa_kv1_ft; do
  decode "$name" "$OUT/$name.train/model.avg.safetensors"
  decode "${name}_int8" "$OUT/$name.train/model.avg.safetensors" --cache-dtype int8
done
decode mha_ft_win4 "$OUT/mha_ft.train/model.avg.safetensors" --left-chunks 4
decode mha_ft_win1 "$OUT/mha_ft.train/model.avg.safetensors" --left-chunks 1

for set in before after; do
  declare -n list=$set
  "$BIN/asr-eval" --compare "${list[@]}" > "$OUT/$set.md"
  "$BIN/asr-eval" --compare "${list[@]}" --json > "$OUT/$set.json"
done
/usr/bin/python3 scripts/pareto_plot.py "$OUT/pareto.png" "$OUT/before.json" "$OUT/after.json"
/usr/bin/python3 scripts/pareto_plot.py --cer "$OUT/pareto_cer.png" "$OUT/before.json" \
  "$OUT/after.json"
cat "$OUT/before.md" "$OUT/after.md"
