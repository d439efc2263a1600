#!/usr/bin/env bash
# TED-LIUM release 2 (or 3) Branchformer CTC recipe: the five attention types side by side,
# then the MHA model converted to MLA at several latent sizes and fine-tuned. ESPnet's stage
# style:
#
#   recipes/tedlium2/run.sh [--stage N] [--stop-stage M] [--option value ...]
#
# Stages (each skippable and re-runnable; finished work is kept):
#   1  download    TEDLIUM_release2.tar.gz (SLR19) or TEDLIUM_release-3.tgz (SLR51),
#                  sha256-checked, resumable; LATENTASR_MIRROR=DIR copies it from DIR instead
#   2  extract     unpack
#   3  prepare     data folder from the stm segments (seeking into each talk's sph; segments
#                  marked ignore_time_segment_in_scoring dropped; <unk> per --unk): manifests,
#                  CMVN statistics, the sentencepiece tokenizer (unigram 500, as ESPnet);
#                  a manifest per test set
#   4  train       each of --attention-types (mpirun over NGPU GPUs or NRANKS CPU ranks)
#   5  evaluate    every model on dev and test
#   6  convert     the MHA model to MLA at each of --latents, fine-tuned --ft-steps steps, and
#                  the MHA model fine-tuned alike; all evaluated
#   7  results     EXP_DIR/RESULTS.md with ESPnet's published numbers for reference
#
# Options:
#   --release 2|3        TED-LIUM 3 trains on its full data/ (452 h), dev/test from legacy/
#   --corpus-dir DIR     an extracted TEDLIUM_release2 (or TEDLIUM_release-3) folder (skips 1-2)
#   --download-dir downloads/tedlium   --data-dir data/tedlium2   --exp-dir exp/tedlium2
#   --config FILE        one config for every attention type; default:
#                        recipes/tedlium2/conf/branchformer_<type>.yaml
#   --attention-types "mha mla mla_simple gqa linear"
#   --latents "128 64 32"   --ft-steps 4000   --ft-lr 0.0005   --beam 10
#   --decode ctc_beam    asr-eval's search: ctc_greedy, ctc_beam, or for hybrid configs
#                        (model.decoder: transformer) attention_rescoring, joint
#   --tokenizer unigram --vocab-size 500   --unk drop|keep
#   --train-args "..."   more asr-train arguments for every training
# Environment: NGPU=N (one rank per GPU) or NRANKS=N (CPU ranks) run training under mpirun.
# Needs a build (scripts/build.sh). docs/recipes.md: hours, steps, disk and GPU-hours.
set -euo pipefail
recipe_script=$(realpath "$0")
cd "$(dirname "$recipe_script")/../.."
source recipes/common/stages.sh

recipe_options="release corpus_dir download_dir data_dir exp_dir config attention_types latents
  ft_steps ft_lr beam decode tokenizer vocab_size unk train_args"
stage=1
stop_stage=7
release=2
corpus_dir=""
download_dir=downloads/tedlium
data_dir=data/tedlium2
exp_dir=exp/tedlium2
config=""
attention_types="mha mla mla_simple gqa linear"
latents="128 64 32"
ft_steps=4000
ft_lr=0.0005
beam=10
decode=ctc_beam
tokenizer=unigram
vocab_size=500
unk=drop
train_args=""
parse_options "$@"

case "$release" in
  2) archive=TEDLIUM_release2.tar.gz folder=TEDLIUM_release2 train_split=train dev_split=dev
     test_split=test url=https://www.openslr.org/resources/19/$archive
     sum=93281b5fcaaae5c88671c9d000b443cb3c7ea3499ad12010b3934ca41a7b9c58 ;;
  3) archive=TEDLIUM_release-3.tgz folder=TEDLIUM_release-3 train_split=data
     dev_split=legacy/dev test_split=legacy/test url=https://www.openslr.org/resources/51/$archive
     sum=ad1e454d14d1ad550bc2564c462d87c7a7ec83d4dc2b9210f22ab4973b9eccdb ;;
  *) die "--release is 2 or 3, got '$release'" ;;
esac
root=${corpus_dir:-$download_dir/$folder}

if [ -z "$corpus_dir" ] && stage 1 "download"; then
  fetch_archive "$archive" "$url" "$sum" "$download_dir"
fi

if [ -z "$corpus_dir" ] && stage 2 "extract"; then
  extract_archive "$download_dir/$archive" "$download_dir"
fi

if stage 3 "prepare: manifests, CMVN, $tokenizer tokenizer, test manifests"; then
  "$bin"/asr-prepare --corpus "$root" --layout tedlium --out "$data_dir" \
    --train-split "$train_split" --dev-split "$dev_split" --unk "$unk" \
    --tokenizer "$tokenizer" --vocab-size "$vocab_size"
  mkdir -p "$data_dir/test"
  for t in "$dev_split" "$test_split"; do
    "$bin"/asr-prepare --corpus "$root/$t" --layout tedlium --unk "$unk" \
      --manifest "$data_dir/test/$(basename "$t").jsonl"
  done
fi

tests=("dev=$data_dir/test/dev.jsonl" "test=$data_dir/test/test.jsonl")
conf_prefix=recipes/tedlium2/conf/branchformer_
title="TED-LIUM release $release, Branchformer CTC, latentasr"
published=recipes/tedlium2/published.md
model_stages
