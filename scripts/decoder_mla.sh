#!/usr/bin/env bash
# MHA -> MLA conversion of a hybrid model's decoder, against the MHA decoder after equal
# fine-tuning (issue #17's goal: MLA at a quarter of the decoder's fp32 cache within +3%
# relative WER).
#
#   scripts/decoder_mla.sh HYBRID_EXP CONFIG [LATENT...]
#     e.g. scripts/decoder_mla.sh exp/an4_demo_hybrid recipes/an4/demo_hybrid.yaml 64 32
#
# HYBRID_EXP/model.avg.safetensors (a hybrid model with MHA decoder attentions, trained with
# CONFIG) is fine-tuned STEPS steps as it is (mha_ft), and converted at each LATENT (the
# decoder's self- and cross-attentions, calibrated on DATA/train) then fine-tuned alike
# (mla_L_ft); every model is decoded jointly (beam 10) on DATA/dev and compared with 95%
# confidence intervals against mha_ft (asr-eval --compare). Writes OUT/compare.md.
# Environment: DATA (default data/an4), OUT (default HYBRID_EXP/decoder_mla), STEPS (200),
# LR (peak fine-tuning learning rate, 5e-4, cosine to 0).
set -euo pipefail
cd "$(dirname "$0")/.."
EXP=${1:?usage: scripts/decoder_mla.sh HYBRID_EXP CONFIG [LATENT...]}
CONF=${2:?usage: scripts/decoder_mla.sh HYBRID_EXP CONFIG [LATENT...]}
shift 2
LATENTS=("${@:-64}")
DATA=${DATA:-data/an4}
OUT=${OUT:-$EXP/decoder_mla}
STEPS=${STEPS:-200}
LR=${LR:-0.0005}
BIN=build/bin
MODEL=$EXP/model.avg.safetensors
[ -f "$MODEL" ] || { echo "decoder_mla: $MODEL not found" >&2; exit 1; }
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}
mkdir -p "$OUT"
ft=(--set train.max_epochs=0 --set "train.max_steps=$STEPS" --set "optim.lr=$LR"
    --set schedule.type=cosine --set schedule.warmup_steps=0 --set "schedule.total_steps=$STEPS"
    --set train.validate_every=50 --set train.keep_checkpoints=3 --set train.average_best=3)
decode() {  # CHECKPOINT OUT_DIR
  "$BIN"/asr-eval --checkpoint "$1" --data "$DATA/dev" --beam 10 --decode joint --out "$2"
}

if [ ! -f "$OUT/mha_ft/model.avg.safetensors" ]; then
  "$BIN"/asr-train --config "$CONF" --output-dir "$OUT/mha_ft" --init "$MODEL" "${ft[@]}"
fi
decode "$OUT/mha_ft/model.avg.safetensors" "$OUT/mha_ft/eval_dev"
rows=("$OUT/mha_ft/eval_dev")
for L in "${LATENTS[@]}"; do
  dir=$OUT/mla_$L
  mkdir -p "$dir"
  "$BIN"/asr-convert --input "$MODEL" --output "$dir/converted.safetensors" --part decoder \
    --to mla --latent-dim "$L" --calibration "$DATA/train" --report "$dir/conversion.json"
  decode "$dir/converted.safetensors" "$dir/eval_dev"
  mla=(--set model.decoder_conf.self_attention_type=mla
       --set "model.decoder_conf.self_attention_kwargs.latent_dim=$L"
       --set model.decoder_conf.src_attention_type=mla
       --set "model.decoder_conf.src_attention_kwargs.latent_dim=$L")
  if [ ! -f "${dir}_ft/model.avg.safetensors" ]; then
    "$BIN"/asr-train --config "$CONF" --output-dir "${dir}_ft" --init "$dir/converted.safetensors" \
      "${ft[@]}" "${mla[@]}"
  fi
  decode "${dir}_ft/model.avg.safetensors" "${dir}_ft/eval_dev"
  rows+=("$dir/eval_dev" "${dir}_ft/eval_dev")
done
"$BIN"/asr-eval --compare "${rows[@]}" | tee "$OUT/compare.md"
