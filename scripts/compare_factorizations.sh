#!/usr/bin/env bash
# The conversion's factorization options against the calibrated joint SVD at equal ranks
# (docs/conversion.md, "Factorization options measured"): for each latent in RANKS, asr-convert
# --to mla calibrated on DATA/train with each option alone and the winners together, every model
# compared with the MHA model on DATA/dev (relative logits error, greedy WER) in full context and
# under a streaming chunk mask of CHUNK encoder frames (--test-chunk). Writes OUT/table.md.
#
#   scripts/compare_factorizations.sh MHA_CHECKPOINT
#
# Environment: DATA (default data/an4), OUT (default exp/factorizations), RANKS (default "16 32"),
# CHUNK (default 16).
set -euo pipefail
MHA=$(realpath "${1:?usage: scripts/compare_factorizations.sh MHA_CHECKPOINT}")
cd "$(dirname "$0")/.."
DATA=${DATA:-data/an4}
OUT=${OUT:-exp/factorizations}
RANKS=${RANKS:-16 32}
CHUNK=${CHUNK:-16}
BIN=build/bin
mkdir -p "$OUT"
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}

variants=(
  "calibrated|"
  "values through W_o|--weight-values-by-output"
  "K/V balanced|--balance-kv"
  "sequential|--sequential"
  "calibrated under chunks|--calibration-chunk $CHUNK"
  "all four|--weight-values-by-output --balance-kv --sequential --calibration-chunk $CHUNK"
)

{
  echo "| latent | factorization | logits rel. error (full) | WER % (full) | logits rel. error (chunk $CHUNK) | WER % (chunk $CHUNK) |"
  echo "|---|---|---|---|---|---|"
} > "$OUT/table.md"
for r in $RANKS; do
  i=0
  for v in "${variants[@]}"; do
    label=${v%%|*}
    read -r -a flags <<< "${v#*|}"
    name="l${r}_v$i"
    i=$((i + 1))
    cells=()
    for chunk in 0 "$CHUNK"; do
      "$BIN/asr-convert" --input "$MHA" --output "$OUT/$name.safetensors" --to mla \
        --latent-dim "$r" --calibration "$DATA/train" "${flags[@]}" --test-quality "$DATA/dev" \
        --test-chunk "$chunk" --report "$OUT/$name.c$chunk.json" > "$OUT/$name.c$chunk.log" 2>&1
      cells+=("$(/usr/bin/python3 -c "import json,sys; j=json.load(open(sys.argv[1])); print(f\"{j['logits_relative_error']:.3e} | {100*j['wer_after']:.2f}\")" "$OUT/$name.c$chunk.json")")
    done
    echo "| $r | $label | ${cells[0]} | ${cells[1]} |" >> "$OUT/table.md"
    echo "compare_factorizations: latent $r, $label done" >&2
  done
done
first=$(set -- $RANKS; echo "$1")
mha_cells=$(/usr/bin/python3 -c "import json,sys; print(' | '.join(f\"0 | {100*json.load(open(p))['wer_before']:.2f}\" for p in sys.argv[1:]))" \
  "$OUT/l${first}_v0.c0.json" "$OUT/l${first}_v0.c$CHUNK.json")
echo "| - | MHA (not converted) | $mha_cells |" >> "$OUT/table.md"
cat "$OUT/table.md"
