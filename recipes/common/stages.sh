# Shared by the corpus recipes (recipes/<corpus>/run.sh), sourced from the repository root:
# ESPnet-style stage selection and options, archive download with checksums, training on one
# process or under mpirun, evaluation, MHA -> MLA conversion with fine-tuning, RESULTS.md.
# A recipe sets recipe_script (its own absolute path, taken before it changes to the repository
# root), sets its defaults, calls parse_options "$@", then runs its stages through stage().
# Relative paths in options are relative to the repository root.
# The tools are taken from LATENTASR_BIN (default build/bin, scripts/build.sh's).

bin=${LATENTASR_BIN:-build/bin}
: "${recipe_script:?a recipe sets recipe_script to its own path before sourcing stages.sh}"
recipe_name=$(basename "$(dirname "$recipe_script")")

# --stage N --stop-stage M select stages; every other --some-name VALUE sets the variable
# some_name, which must be listed in the recipe's $recipe_options (and given its default
# there). --help prints the recipe's header comment.
parse_options() {
  while [ $# -gt 0 ]; do
    case "$1" in
      --help|-h)
        sed -n '2,/^set -/p' "$recipe_script" | sed '$d' | sed 's/^# \{0,1\}//'
        exit 0 ;;
      --*)
        [ $# -ge 2 ] || die "$1 needs a value"
        local name=${1#--}
        name=${name//-/_}
        # shellcheck disable=SC2086
        [[ " stage stop_stage $(echo $recipe_options) " == *" $name "* ]] ||
          die "unknown option $1 (see --help)"
        printf -v "$name" '%s' "$2"
        shift 2 ;;
      *) die "unexpected argument '$1' (options are --name value; see --help)" ;;
    esac
  done
  [[ "$stage" =~ ^[0-9]+$ && "$stop_stage" =~ ^[0-9]+$ ]] ||
    die "--stage and --stop-stage take stage numbers, got '$stage' and '$stop_stage'"
}

die() {
  echo "$recipe_name: error: $*" >&2
  exit 1
}

log() { echo "$recipe_name: $*" >&2; }

# stage N "what it does": true when N is within --stage .. --stop-stage (and says so).
stage() {
  if [ "$1" -ge "$stage" ] && [ "$1" -le "$stop_stage" ]; then
    log "stage $1: $2"
    return 0
  fi
  return 1
}

# fetch_archive NAME URL SHA256 DIR: DIR/NAME, checked against SHA256. With LATENTASR_MIRROR
# set, the archive is copied from that folder (same name) instead of downloaded; a mirror may
# carry a SHA256SUMS file ("<sum>  <name>" lines) for archives it repacked, which then
# replaces the published sum. Downloads resume (curl -C -) and are checked before they are
# renamed into place, so DIR/NAME is always a complete, verified archive.
fetch_archive() {
  local name=$1 url=$2 sum=$3 dir=$4
  local dest=$dir/$name
  mkdir -p "$dir"
  if [ -n "${LATENTASR_MIRROR:-}" ] && [ -f "$LATENTASR_MIRROR/SHA256SUMS" ]; then
    local mirrored
    mirrored=$(awk -v n="$name" '$2 == n { print $1 }' "$LATENTASR_MIRROR/SHA256SUMS")
    [ -n "$mirrored" ] && sum=$mirrored
  fi
  if [ -f "$dest" ]; then
    log "$name: present"
    return 0
  fi
  if [ -n "${LATENTASR_MIRROR:-}" ]; then
    [ -f "$LATENTASR_MIRROR/$name" ] || die "$name not in LATENTASR_MIRROR=$LATENTASR_MIRROR"
    cp "$LATENTASR_MIRROR/$name" "$dest.part"
  else
    log "$name: downloading $url"
    curl -fL --retry 3 -C - -o "$dest.part" "$url" || die "$name: download failed ($url)"
  fi
  local got
  got=$(sha256sum "$dest.part" | cut -d' ' -f1)
  if [ "$got" != "$sum" ]; then
    rm -f "$dest.part"
    die "$name: sha256 $got, expected $sum (damaged or wrong archive; removed, run again)"
  fi
  mv "$dest.part" "$dest"
  log "$name: sha256 verified"
}

# extract_archive ARCHIVE DIR: unpacks once into DIR (a marker beside it records it).
extract_archive() {
  local archive=$1 dir=$2
  local marker
  marker=$dir/.$(basename "$archive").extracted
  [ -f "$marker" ] && return 0
  mkdir -p "$dir"
  log "extracting $(basename "$archive")"
  tar -xzf "$archive" -C "$dir" || die "$archive: cannot extract"
  touch "$marker"
}

# link_merged OUT SRC...: OUT/<entry> -> SRC/<entry> for every entry of every SRC folder, so
# that several corpus splits read as one (speakers, or sph/ and stm/ files); two sources
# holding the same entry is an error.
link_merged() {
  local out=$1
  shift
  rm -rf "$out"
  mkdir -p "$out"
  local src entry
  for src in "$@"; do
    [ -d "$src" ] || die "$src: not a folder (is the corpus extracted?)"
    [ -n "$(ls -A "$src")" ] || die "$src: empty folder (is the corpus extracted?)"
    for entry in "$src"/*; do
      [ -e "$out/$(basename "$entry")" ] && die "$(basename "$entry") is in two merged splits"
      ln -s "$(realpath "$entry")" "$out/$(basename "$entry")"
    done
  done
}

# asr_train ARGS...: asr-train on one process, or under mpirun with NGPU ranks (one GPU each,
# train.device cuda) or NRANKS CPU ranks.
asr_train() {
  local ngpu=${NGPU:-0} nranks=${NRANKS:-1}
  if [ "$ngpu" -gt 0 ]; then
    mpirun -np "$ngpu" "$bin"/asr-train "$@" --set train.device=cuda
  elif [ "$nranks" -gt 1 ]; then
    mpirun -np "$nranks" "$bin"/asr-train "$@"
  else
    "$bin"/asr-train "$@"
  fi
}

# train_model OUT ARGS...: trains into OUT unless OUT/model.avg.safetensors exists (asr-train
# averages the best checkpoints into it at the end); an interrupted run continues from its
# newest complete checkpoint.
train_model() {
  local out=$1
  shift
  if [ -f "$out/model.avg.safetensors" ]; then
    log "$out: trained"
    return 0
  fi
  asr_train "$@" --output-dir "$out" --resume auto
}

# evaluate CHECKPOINT OUT_PREFIX BEAM TEST_NAME=MANIFEST...: decodes each test set into
# OUT_PREFIX<test_name>/ (eval.json, sclite ref.trn / hyp.trn, results.txt), searching as the
# recipe's --decode says (default ctc_beam; joint or attention_rescoring for hybrid configs).
evaluate() {
  local ckpt=$1 prefix=$2 beam=$3
  shift 3
  local t
  for t in "$@"; do
    "$bin"/asr-eval --checkpoint "$ckpt" --data "${t#*=}" --beam "$beam" \
      --decode "${decode:-ctc_beam}" --out "$prefix${t%%=*}"
  done
}

# Stages 4-7 of every recipe: train each attention type, evaluate, convert MHA -> MLA and
# fine-tune, write RESULTS.md. Reads the recipe's options (attention_types, latents, ft_steps,
# ft_lr, beam, exp_dir, data_dir, config, tokenizer, vocab_size, train_args) and sets:
#   conf_prefix  per-type configs are ${conf_prefix}<type>.yaml (unless --config)
#   tests        ("name=manifest" ...) the test sets
#   title, published   RESULTS.md's title and the markdown file of published numbers
model_stages() {
  local data_flags=(--set "data.train=$data_dir/train" --set "data.dev=$data_dir/dev"
                    --set "data.tokenizer=$tokenizer" --set "data.vocab_size=$vocab_size")
  local a l out
  if stage 4 "train: $attention_types"; then
    for a in $attention_types; do
      config_for "$a"
      # shellcheck disable=SC2086  # --train-args is split into words
      train_model "$exp_dir/$a" "${config_args[@]}" "${data_flags[@]}" $train_args
    done
  fi

  if stage 5 "evaluate on ${tests[*]%%=*}"; then
    for a in $attention_types; do
      evaluate "$exp_dir/$a/model.avg.safetensors" "$exp_dir/$a/decode_" "$beam" "${tests[@]}"
    done
  fi

  if stage 6 "convert MHA to MLA at latents $latents; fine-tune $ft_steps steps; evaluate"; then
    local mha=$exp_dir/mha/model.avg.safetensors
    [ -f "$mha" ] || die "$mha not found: stage 6 converts the MHA model of stage 4"
    # Fine-tuning: the same steps and cosine-decayed learning rate for MHA and every MLA, so
    # that what the extra steps give is not credited to the conversion.
    # shellcheck disable=SC2206  # --train-args is split into words
    local ft_flags=("${data_flags[@]}" $train_args --set train.max_epochs=0
      --set "train.max_steps=$ft_steps" --set "optim.lr=$ft_lr" --set schedule.type=cosine
      --set schedule.warmup_steps=0 --set "schedule.total_steps=$ft_steps")
    config_for mha
    train_model "$exp_dir/mha_ft" "${config_args[@]}" "${ft_flags[@]}" --init "$mha"
    evaluate "$exp_dir/mha_ft/model.avg.safetensors" "$exp_dir/mha_ft/decode_" "$beam" "${tests[@]}"
    for l in $latents; do
      out=$exp_dir/mla_l$l
      mkdir -p "$out"
      [ -f "$out/converted.safetensors" ] ||
        "$bin"/asr-convert --input "$mha" --output "$out/converted.safetensors" --to mla \
          --latent-dim "$l" --calibration "$data_dir/train" --report "$out/conversion.json"
      evaluate "$out/converted.safetensors" "$out/decode_" "$beam" "${tests[@]}"
      train_model "${out}_ft" "${config_args[@]}" "${ft_flags[@]}" \
        --init "$out/converted.safetensors" \
        --set model.attention_type=mla --set model.attention_kwargs.latent_dim="$l"
      evaluate "${out}_ft/model.avg.safetensors" "${out}_ft/decode_" "$beam" "${tests[@]}"
    done
  fi

  if stage 7 "results: $exp_dir/RESULTS.md"; then
    local order="$attention_types mha_ft"
    for l in $latents; do order="$order mla_l$l mla_l${l}_ft"; done
    {
      python3 recipes/common/results.py --exp "$exp_dir" --models "$order" --title "$title"
      significance_tables
      cat "$published"
    } > "$exp_dir/RESULTS.md.part"
    mv "$exp_dir/RESULTS.md.part" "$exp_dir/RESULTS.md"
    log "wrote $exp_dir/RESULTS.md"
  fi
}

# RESULTS.md's comparisons with confidence intervals (asr-eval --compare: paired bootstrap over
# utterances, MAPSSWE), per test set, each against its baseline: the attention types against
# MHA; the converted models against MHA; the fine-tuned ones against MHA fine-tuned alike.
significance_tables() {
  local t name a l rows
  echo "## WER differences, 95% confidence intervals"
  echo
  for t in "${tests[@]}"; do
    name=${t%%=*}
    rows=()
    for a in $attention_types; do rows+=("$exp_dir/$a/decode_$name"); done
    compare_rows "$name: attention types against MHA" "${rows[@]}"
    rows=("$exp_dir/mha/decode_$name")
    for l in $latents; do rows+=("$exp_dir/mla_l$l/decode_$name"); done
    compare_rows "$name: converted to MLA, no fine-tuning, against MHA" "${rows[@]}"
    rows=("$exp_dir/mha_ft/decode_$name")
    for l in $latents; do rows+=("$exp_dir/mla_l${l}_ft/decode_$name"); done
    compare_rows "$name: fine-tuned $ft_steps steps, against MHA fine-tuned alike" "${rows[@]}"
  done
}

# compare_rows TITLE BASELINE OTHER...: one --compare table, when the baseline and at least one
# other evaluation exist.
compare_rows() {
  local title=$1 d
  shift
  local present=()
  for d in "$@"; do [ -f "$d/eval.json" ] && present+=("$d"); done
  [ ${#present[@]} -ge 2 ] && [ "${present[0]}" = "$1" ] || return 0
  echo "### $title"
  echo
  "$bin"/asr-eval --compare "${present[@]}"
  echo
}

# config_args=(the flags that select attention type $1's training config).
config_for() {
  if [ -n "$config" ]; then
    config_args=(--config "$config" --set "model.attention_type=$1")
  else
    config_args=(--config "${conf_prefix}$1.yaml")
  fi
}
