#!/usr/bin/env bash
# Both corpus recipes end to end, offline: archives in the exact published layouts
# (LibriSpeech's <split>.tar.gz holding LibriSpeech/<split>/<speaker>/<chapter>/..., and
# TEDLIUM_release2.tar.gz holding TEDLIUM_release2/{train,dev,test}/{sph,stm}) are built here
# from AN4's real speech, served through LATENTASR_MIRROR, and every stage runs: download
# (checksums), extract, prepare, train a tiny model of each of two attention types, evaluate,
# convert to MLA and fine-tune, RESULTS.md. Also: a damaged archive is refused, and a second
# run of the early stages reuses what the first made.
#
#   tests/recipes/test_recipes.sh BUILD_DIR        (ctest: recipes_test_recipes, label slow)
set -euo pipefail
build=$(realpath "${1:?usage: test_recipes.sh BUILD_DIR}")
src=$(realpath "$(dirname "$0")/../..")
an4=${LATENTASR_AN4:-$src/../shared/data/an4}
[ -d "$an4/train" ] || { echo "AN4 corpus not found at $an4: set LATENTASR_AN4" >&2; exit 1; }
export LATENTASR_BIN=$build/bin OMP_NUM_THREADS=1
tmp=$(mktemp -d /tmp/latentasr_recipes.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
mirror=$tmp/mirror
mkdir -p "$mirror" "$tmp/layout"
failures=0
check() {  # check "what" command...: runs the command, counts a failure
  if "${@:2}"; then echo "ok: $1"; else echo "FAILED: $1" >&2; failures=$((failures + 1)); fi
}
# wer_rows RESULTS TEST MODELS...: every model's WER table in RESULTS.md has a row for TEST,
# and no other table does.
wer_rows() {
  local results=$1 test=$2 m
  shift 2
  [ "$(grep -c "^|$test|" "$results")" -eq $# ] || return 1
  for m in "$@"; do
    awk -v h="## $m" -v r="|$test|" '$0 == h { s = 1; next } /^## / { s = 0 }
      s && index($0, r) == 1 { f = 1 } END { exit !f }' "$results" || return 1
  done
}

# --- LibriSpeech: five splits of AN4 speakers (4 in training, 1 per evaluation split) --------
mapfile -t train_speakers < <(ls "$an4/train" | head -4)
mapfile -t dev_speakers < <(ls "$an4/dev" | head -4)
declare -A split_speakers=(
  [train-clean-100]="${train_speakers[*]/#/train/}"
  [dev-clean]="dev/${dev_speakers[0]}" [dev-other]="dev/${dev_speakers[1]}"
  [test-clean]="dev/${dev_speakers[2]}" [test-other]="dev/${dev_speakers[3]}"
)
for split in "${!split_speakers[@]}"; do
  mkdir -p "$tmp/layout/LibriSpeech/$split"
  for s in ${split_speakers[$split]}; do cp -r "$an4/$s" "$tmp/layout/LibriSpeech/$split/"; done
  tar -czf "$mirror/$split.tar.gz" -C "$tmp/layout" "LibriSpeech/$split"
done

# --- TED-LIUM 2: per split two talks, each AN4 utterances one after another with pauses; the
# stm lowercases the text as TED-LIUM does and marks one stretch ignore_time_segment_in_scoring.
ted=$tmp/layout/TEDLIUM_release2
make_talk() {  # make_talk SPLIT TALK UTTERANCE_FILES...
  local split=$1 talk=$2
  shift 2
  mkdir -p "$ted/$split/sph" "$ted/$split/stm"
  local pieces=() start=0.5 f id text dur
  sox -n -r 16000 -c 1 -b 16 "$tmp/pause.wav" trim 0 0.5
  : > "$ted/$split/stm/$talk.stm"
  for f in "$@"; do
    id=$(basename "$f" .flac)
    text=$(grep -h "^$id " "$(dirname "$f")"/*.trans.txt | cut -d' ' -f2- | tr 'A-Z' 'a-z')
    dur=$(soxi -D "$f")
    pieces+=("$tmp/pause.wav" "$f")
    awk -v t="$talk" -v s="$start" -v d="$dur" -v x="$text" \
      'BEGIN { printf "%s 1 %s %.2f %.2f <o,f0,male> %s\n", t, t, s, s + d, x }' \
      >> "$ted/$split/stm/$talk.stm"
    start=$(awk -v s="$start" -v d="$dur" 'BEGIN { print s + d + 0.5 }')
  done
  printf '%s 1 inter_segment_gap 0.00 0.50 <o,,unknown> ignore_time_segment_in_scoring\n' \
    "$talk" >> "$ted/$split/stm/$talk.stm"
  sox "${pieces[@]}" -r 16000 -c 1 -b 16 -e signed-integer "$ted/$split/sph/$talk.sph"
}
mapfile -t utts < <(find "$an4/train" "$an4/dev" -name '*.flac' | sort | head -72)
make_talk train TalkA_2010 "${utts[@]:0:18}"
make_talk train TalkB_2011 "${utts[@]:18:18}"
make_talk dev TalkC_2012 "${utts[@]:36:9}"
make_talk dev TalkD_2012 "${utts[@]:45:9}"
make_talk test TalkE_2013 "${utts[@]:54:9}"
make_talk test TalkF_2013 "${utts[@]:63:9}"
tar -czf "$mirror/TEDLIUM_release2.tar.gz" -C "$tmp/layout" TEDLIUM_release2
(cd "$mirror" && sha256sum -- *.tar.gz > SHA256SUMS)

# A tiny model and a few steps: the machinery, not the accuracy, is under test.
tiny="--set model.d_model=16 --set model.num_layers=1 --set model.num_heads=2
  --set model.ffn_dim=32 --set model.conv_kernel=3 --set model.cgmlp_dim=16
  --set model.attention_kwargs.latent_dim=16 --set data.batch_frames=6000
  --set data.num_workers=1 --set data.speed_perturb=false --set train.max_epochs=0
  --set train.max_steps=3 --set train.accum_grad=1 --set train.keep_checkpoints=1
  --set train.average_best=1 --set train.log_every=1 --set schedule.warmup_steps=2
  --set train.beam_size=1"
common=(--attention-types "mha mla" --latents 8 --ft-steps 2 --beam 2 --train-args "$tiny")
# The models those options make: both types, the MHA model fine-tuned, latent 8 converted and
# converted + fine-tuned.
models=(mha mla mha_ft mla_l8 mla_l8_ft)

# --- run from its own folder (as ESPnet's recipes are), a recipe still finds its help text -------
for r in librispeech_100 tedlium2; do
  check "$r --help from its folder" \
    bash -c 'cd "$1" && ./run.sh --help | grep -q "^Stages"' _ "$src/recipes/$r"
  check "$r errors name the recipe" \
    bash -c 'cd "$1" && ./run.sh --no-such-option x 2>&1 | grep -q "^$2: error: unknown option"' \
    _ "$src/recipes/$r" "$r"
done

# --- a damaged archive is refused and not kept --------------------------------------------------
bad=$tmp/bad_mirror
cp -r "$mirror" "$bad"
echo garbage >> "$bad/dev-clean.tar.gz"
if LATENTASR_MIRROR=$bad "$src/recipes/librispeech_100/run.sh" --stop-stage 1 \
     --download-dir "$tmp/dl_bad" > "$tmp/bad.log" 2>&1; then
  check "damaged archive refused" false
else
  check "damaged archive refused" grep -q "dev-clean.tar.gz: sha256" "$tmp/bad.log"
  check "damaged archive not kept" test ! -e "$tmp/dl_bad/dev-clean.tar.gz"
fi

# --- LibriSpeech recipe, all stages -------------------------------------------------------------
ls_args=(--download-dir "$tmp/dl/ls" --data-dir "$tmp/data/ls" --exp-dir "$tmp/exp/ls"
         --vocab-size 40 "${common[@]}")
if LATENTASR_MIRROR=$mirror "$src/recipes/librispeech_100/run.sh" "${ls_args[@]}" \
     > "$tmp/ls.log" 2>&1; then
  results=$tmp/exp/ls/RESULTS.md
  for t in dev_clean dev_other test_clean test_other; do
    check "librispeech RESULTS.md: $t in every model's table" wer_rows "$results" "$t" "${models[@]}"
  done
  check "librispeech RESULTS.md: ESPnet header" grep -q '^|dataset|Snt|Wrd|Corr|Sub|Del|Ins|Err|$' "$results"
  check "librispeech RESULTS.md: cache table" grep -q '^|mla_l8_ft|mla|' "$results"
  check "librispeech RESULTS.md: published numbers" grep -q 'ESPnet, LibriSpeech-100' "$results"
  # Per test set: attention types, converted and fine-tuned models, each against its baseline.
  check "librispeech RESULTS.md: confidence intervals" \
    test "$(grep -c 'ΔWER vs first (95% CI)' "$results")" -eq 12
  check "librispeech: merged training speakers" test "$(ls "$tmp/data/ls/corpus/train" | wc -l)" -eq 4
  check "librispeech: dev = dev-clean + dev-other" test "$(ls "$tmp/data/ls/corpus/dev" | wc -l)" -eq 2
  # Re-running the early stages reuses the verified archives.
  LATENTASR_MIRROR=$mirror "$src/recipes/librispeech_100/run.sh" "${ls_args[@]}" \
    --stop-stage 2 > "$tmp/ls_again.log" 2>&1
  check "librispeech: second download reuses the archives" \
    test "$(grep -c ': present$' "$tmp/ls_again.log")" -eq 5
else
  check "librispeech recipe runs (log: last lines below)" false
  tail -30 "$tmp/ls.log" >&2
fi

# --- TED-LIUM 2 recipe, all stages --------------------------------------------------------------
if LATENTASR_MIRROR=$mirror "$src/recipes/tedlium2/run.sh" --download-dir "$tmp/dl/ted" \
     --data-dir "$tmp/data/ted" --exp-dir "$tmp/exp/ted" --vocab-size 40 "${common[@]}" \
     > "$tmp/ted.log" 2>&1; then
  results=$tmp/exp/ted/RESULTS.md
  for t in dev test; do
    check "tedlium RESULTS.md: $t in every model's table" wer_rows "$results" "$t" "${models[@]}"
  done
  # 18 segments per dev talk pair, the ignore_time_segment_in_scoring lines dropped.
  check "tedlium: dev segments" test "$(wc -l < "$tmp/data/ted/test/dev.jsonl")" -eq 18
  check "tedlium: train segments" test "$(wc -l < "$tmp/data/ted/train.jsonl")" -eq 36
  check "tedlium RESULTS.md: published numbers" grep -q 'ESPnet, TED-LIUM 2' "$results"
  check "tedlium RESULTS.md: confidence intervals" \
    test "$(grep -c 'ΔWER vs first (95% CI)' "$results")" -eq 6
else
  check "tedlium recipe runs (log: last lines below)" false
  tail -30 "$tmp/ted.log" >&2
fi

[ "$failures" -eq 0 ] || { echo "$failures checks failed" >&2; exit 1; }
echo "all recipe checks passed"
