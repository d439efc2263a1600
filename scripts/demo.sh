#!/usr/bin/env bash
# The main job: installs what it needs, builds, prepares AN4, trains a small Conformer-MHA
# CTC model on its 848 training utterances, converts it to MLA (latent d_model and d_model/2,
# the second fine-tuned briefly), evaluates each on the 100 dev utterances and prints the
# table. About 17 minutes on 2 cores. Output in exp/an4_demo/.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
BUILD_TARGETS="asr-prepare asr-train asr-eval asr-convert" bash scripts/build.sh

# AN4: the copy beside the repository, else $AN4_DIR, else CMU's archive laid out here.
AN4=../shared/data/an4
if [ ! -d "$AN4/train" ]; then
  AN4=${AN4_DIR:-data/an4_corpus}
  if [ ! -d "$AN4/train" ]; then
    echo "demo: downloading AN4 from CMU" >&2
    mkdir -p data/download
    curl -fL -o data/download/an4_sphere.tar.gz \
      http://www.speech.cs.cmu.edu/databases/an4/an4_sphere.tar.gz
    tar -xzf data/download/an4_sphere.tar.gz -C data/download
    /usr/bin/python3 scripts/an4_to_librispeech.py data/download/an4 "$AN4"
  fi
fi

EXP=exp/an4_demo
build/bin/asr-prepare --corpus "$AN4" --layout librispeech --out data/an4 --tokenizer char
# OpenMP threads sleep rather than spin while waiting: the data loader thread shares the cores.
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}
start=$(date +%s)
build/bin/asr-train --config recipes/an4/demo.yaml --output-dir "$EXP"
build/bin/asr-eval --checkpoint "$EXP/model.avg.safetensors" --data data/an4/dev --beam 10 \
  --out "$EXP/eval_dev"

# MHA -> MLA by SVD (docs/conversion.md): latent_dim = d_model is exact and halves the KV
# cache; d_model/2, calibrated on training speech, keeps a quarter and is fine-tuned briefly.
D=$(sed -n "s/^  d_model: //p" recipes/an4/demo.yaml)
build/bin/asr-convert --input "$EXP/model.avg.safetensors" --output "$EXP/mla_d.safetensors" \
  --to mla --latent-dim $D
build/bin/asr-convert --input "$EXP/model.avg.safetensors" --output "$EXP/mla_d2.safetensors" \
  --to mla --latent-dim $((D / 2)) --calibration data/an4/train
build/bin/asr-train --config recipes/an4/finetune.yaml --init "$EXP/mla_d2.safetensors" \
  --output-dir "$EXP/mla_d2_ft" --max-steps 120 --set schedule.total_steps=120 \
  --set model.attention_type=mla --set model.attention_kwargs.latent_dim=$((D / 2))
for m in mla_d mla_d2 mla_d2_ft; do
  ckpt=$EXP/$m.safetensors
  [ -d "$EXP/$m" ] && ckpt=$EXP/$m/model.avg.safetensors
  build/bin/asr-eval --checkpoint "$ckpt" --data data/an4/dev --beam 10 --out "$EXP/eval_$m"
done
echo
echo "MHA, MLA at latent d_model (exact), at d_model/2 (calibrated SVD), and that fine-tuned 120 steps:"
build/bin/asr-eval --compare "$EXP/eval_dev" "$EXP/eval_mla_d" "$EXP/eval_mla_d2" "$EXP/eval_mla_d2_ft"
echo
echo "trained, converted and evaluated in $(( $(date +%s) - start )) s"
echo "curves: $EXP/curves.png   metrics: $EXP/metrics.jsonl"
echo "checkpoints: $EXP/step_*.safetensors   averaged model: $EXP/model.avg.safetensors"
echo "sclite files: $EXP/eval_dev/{ref,hyp}.trn   per utterance: $EXP/eval_dev/results.txt"
