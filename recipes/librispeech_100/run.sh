#!/usr/bin/env bash
# LibriSpeech-100 (or 960 h) Conformer CTC recipe: the five attention types side by side, then
# the MHA model converted to MLA at several latent sizes and fine-tuned. ESPnet's stage style:
#
#   recipes/librispeech_100/run.sh [--stage N] [--stop-stage M] [--option value ...]
#
# Stages (each skippable and re-runnable; finished work is kept):
#   1  download    the openslr archives (SLR12), sha256-checked, resumable;
#                  LATENTASR_MIRROR=DIR copies the same archive names from DIR instead
#   2  extract     unpack; merge the training splits (and the dev splits) into one folder each
#   3  prepare     data folder: manifests, CMVN statistics, the sentencepiece tokenizer
#                  (unigram 5000, as ESPnet); a manifest per test set
#   4  train       each of --attention-types (mpirun over NGPU GPUs or NRANKS CPU ranks when
#                  set); asr-train averages the best checkpoints into model.avg.safetensors
#   5  evaluate    every model on every test set
#   6  convert     the MHA model to MLA at each of --latents (calibrated SVD), each fine-tuned
#                  --ft-steps steps, and the MHA model fine-tuned alike; all evaluated
#   7  results     EXP_DIR/RESULTS.md: ESPnet-style tables, the attention/cache comparison,
#                  and ESPnet's published numbers for this corpus for reference
#
# Options (defaults: the 100-hour experiment):
#   --train-sets "train-clean-100"      add train-clean-360 train-other-500 for 960 h
#   --dev-sets "dev-clean dev-other"    merged into the validation set (ESPnet's "dev")
#   --test-sets "dev-clean dev-other test-clean test-other"
#   --corpus-dir DIR     an extracted corpus holding the split folders (skips stages 1-2)
#   --download-dir downloads/librispeech   --data-dir data/librispeech_100
#   --exp-dir exp/librispeech_100
#   --config FILE        one config for every attention type (the type is set on the command
#                        line); default: recipes/librispeech_100/conf/conformer_<type>.yaml
#   --attention-types "mha mla mla_simple gqa linear"
#   --latents "128 64 32"   --ft-steps 4000   --ft-lr 0.0005   --beam 10
#   --decode ctc_beam    asr-eval's search: ctc_greedy, ctc_beam, or for hybrid configs
#                        (model.decoder: transformer) attention_rescoring, joint
#   --tokenizer unigram --vocab-size 5000
#   --train-args "..."   more asr-train arguments for every training, e.g. "--set train.max_epochs=35"
# Environment: NGPU=N (one rank per GPU) or NRANKS=N (CPU ranks) run training under mpirun.
# Needs a build (scripts/build.sh). docs/recipes.md: hours, steps, disk and GPU-hours.
set -euo pipefail
recipe_script=$(realpath "$0")
cd "$(dirname "$recipe_script")/../.."
source recipes/common/stages.sh

recipe_options="train_sets dev_sets test_sets corpus_dir download_dir data_dir exp_dir config
  attention_types latents ft_steps ft_lr beam decode tokenizer vocab_size train_args"
stage=1
stop_stage=7
train_sets="train-clean-100"
dev_sets="dev-clean dev-other"
test_sets="dev-clean dev-other test-clean test-other"
corpus_dir=""
download_dir=downloads/librispeech
data_dir=data/librispeech_100
exp_dir=exp/librispeech_100
config=""
attention_types="mha mla mla_simple gqa linear"
latents="128 64 32"
ft_steps=4000
ft_lr=0.0005
beam=10
decode=ctc_beam
tokenizer=unigram
vocab_size=5000
train_args=""
parse_options "$@"

# SLR12 archives and their published SHA-256 sums.
declare -A sha256=(
  [train-clean-100]=d4ddd1d5a6ab303066f14971d768ee43278a5f2a0aa43dc716b0e64ecbbbf6e2
  [train-clean-360]=146a56496217e96c14334a160df97fffedd6e0a04e66b9c5af0d40be3c792ecf
  [train-other-500]=ddb22f27f96ec163645d53215559df6aa36515f26e01dd70798188350adcb6d2
  [dev-clean]=76f87d090650617fca0cac8f88b9416e0ebf80350acb97b343a85fa903728ab3
  [dev-other]=12661c48e8c3fe1de2c1caa4c3e135193bfb1811584f11f569dd12645aa84365
  [test-clean]=39fde525e59672dc6d1551919b1478f724438a95aa55f874b576be21967e6c23
  [test-other]=d09c181bba5cf717b3dee7d4d592af11a3ee3a09e08ae025c5506f6ebe961c29
)
splits=$(printf '%s\n' $train_sets $dev_sets $test_sets | sort -u)
split_root=${corpus_dir:-$download_dir/LibriSpeech}

if [ -z "$corpus_dir" ] && stage 1 "download"; then
  for s in $splits; do
    [ -n "${sha256[$s]:-}" ] || die "unknown LibriSpeech split '$s'"
    fetch_archive "$s.tar.gz" "https://www.openslr.org/resources/12/$s.tar.gz" "${sha256[$s]}" \
      "$download_dir"
  done
fi

if stage 2 "extract; merge the training and the dev splits"; then
  if [ -z "$corpus_dir" ]; then
    for s in $splits; do extract_archive "$download_dir/$s.tar.gz" "$download_dir"; done
  fi
  link_merged "$data_dir/corpus/train" $(printf "$split_root/%s " $train_sets)
  link_merged "$data_dir/corpus/dev" $(printf "$split_root/%s " $dev_sets)
fi

if stage 3 "prepare: manifests, CMVN, $tokenizer tokenizer, test manifests"; then
  "$bin"/asr-prepare --corpus "$data_dir/corpus" --layout librispeech --out "$data_dir" \
    --tokenizer "$tokenizer" --vocab-size "$vocab_size"
  mkdir -p "$data_dir/test"
  for t in $test_sets; do
    "$bin"/asr-prepare --corpus "$split_root/$t" --layout librispeech \
      --manifest "$data_dir/test/${t//-/_}.jsonl"
  done
fi

tests=()
for t in $test_sets; do tests+=("${t//-/_}=$data_dir/test/${t//-/_}.jsonl"); done
conf_prefix=recipes/librispeech_100/conf/conformer_
title="LibriSpeech ($train_sets), Conformer CTC, latentasr"
published=recipes/librispeech_100/published.md
model_stages
