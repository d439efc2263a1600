#!/usr/bin/env bash
# The main job: installs what it needs, builds, prepares AN4, trains a small Conformer-MHA
# CTC model on its 848 training utterances, evaluates on the 100 dev utterances and prints
# the table. About 15 minutes on 2 cores. Output in exp/an4_demo/.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
BUILD_TARGETS="asr-prepare asr-train asr-eval" bash scripts/build.sh

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
echo
build/bin/asr-eval --compare "$EXP/eval_dev"
echo
echo "trained and evaluated in $(( $(date +%s) - start )) s"
echo "curves: $EXP/curves.png   metrics: $EXP/metrics.jsonl"
echo "checkpoints: $EXP/step_*.safetensors   averaged model: $EXP/model.avg.safetensors"
echo "sclite files: $EXP/eval_dev/{ref,hyp}.trn   per utterance: $EXP/eval_dev/results.txt"
