#!/usr/bin/env bash
# The LibriSpeech recipe on ../shared/data/libri-mp3 (real LibriSpeech dev-clean speech of 16
# speakers in LibriSpeech's layout, MP3: train 919 utterances, dev 152), sized for 2 CPU cores:
# recipes/librispeech_100/run.sh with the corpus folder, its splits, the small model of
# conf/libri_mp3.yaml, characters, the MHA model only, converted to MLA at latent d/2, d/4 and
# d/8 (64, 32, 16) and fine-tuned 150 steps each, the MHA model fine-tuned alike. Results in
# exp/libri_mp3/RESULTS.md (the measured copy: recipes/librispeech_100/RESULTS.md).
# More run.sh options may follow, e.g. --stage 5.
set -euo pipefail
cd "$(dirname "$0")/../.."
exec recipes/librispeech_100/run.sh --corpus-dir "${LIBRI_MP3:-../shared/data/libri-mp3}" \
  --train-sets train --dev-sets dev --test-sets dev \
  --data-dir data/libri_mp3 --exp-dir exp/libri_mp3 \
  --config recipes/librispeech_100/conf/libri_mp3.yaml --tokenizer char \
  --attention-types mha --latents "64 32 16" --ft-steps 150 --ft-lr 0.0005 "$@"
