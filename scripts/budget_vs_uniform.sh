#!/usr/bin/env bash
# Budgeted against uniform latent ranks at equal cache bytes (asr-convert --cache-budget), and
# whether the budget's proxy ranks layers as the measured logits error does.
#
#   scripts/budget_vs_uniform.sh [MHA_CHECKPOINT]   (default exp/an4_demo/model.avg.safetensors)
#
# For each R in RANKS: the calibrated mla_simple conversion at latent R in every layer, and the
# one with --cache-budget set to the bytes per frame that gives (ranks chosen per layer);
# logits error and greedy WER on DATA/dev. Then, at latent PROBE in one layer and the exact
# latent d_model in all others, one conversion per layer: the measured logits error against
# the proxy the budget allocates by (the layer's discarded energy fraction D_l), with their
# Spearman rank correlation. Writes OUT/*.json (asr-convert reports) and OUT/table.md.
#
# Environment: DATA (prepared data folder, default data/an4), OUT (default exp/budget),
# RANKS (default "16 32 64"), PROBE (default 16), UTTS (calibration utterances, default 200).
set -euo pipefail
cd "$(dirname "$0")/.."
MHA=${1:-exp/an4_demo/model.avg.safetensors}
DATA=${DATA:-data/an4}
OUT=${OUT:-exp/budget}
RANKS=${RANKS:-16 32 64}
PROBE=${PROBE:-16}
UTTS=${UTTS:-200}
[ -f "$MHA" ] || { echo "budget_vs_uniform: $MHA not found (run scripts/demo.sh first)" >&2; exit 1; }
mkdir -p "$OUT"

# convert NAME ARGS...: calibrated mla_simple conversion, its report in OUT/NAME.json.
convert() {
  local name=$1
  shift
  build/bin/asr-convert --input "$MHA" --output "$OUT/$name.safetensors" --to mla_simple "$@" \
    --calibration "$DATA/train" --calibration-utts "$UTTS" --test-quality "$DATA/dev" \
    --report "$OUT/$name.json" > "$OUT/$name.txt"
  rm -f "$OUT/$name.safetensors"
}

# json FILE EXPR: a value of an asr-convert report.
json() { /usr/bin/python3 -c "import json, sys; r = json.load(open(sys.argv[1])); print($2)" "$1"; }

for r in $RANKS; do
  convert "uniform_$r" --latent-dim "$r"
  convert "budget_$r" --cache-budget "$(json "$OUT/uniform_$r.json" "r['cache_bytes_per_frame_after']")"
done
first=$(echo "$RANKS" | cut -d' ' -f1)
layers=$(json "$OUT/uniform_$first.json" "len(r['layers'])")
d=$(json "$OUT/uniform_$first.json" "r['cache_bytes_per_frame_before'] // (8 * len(r['layers']))")
for ((l = 0; l < layers; ++l)); do
  dims=$(/usr/bin/python3 -c "print(','.join('$PROBE' if i == $l else '$d' for i in range($layers)))")
  convert "probe_$l" --latent-dims "$dims"
done

/usr/bin/python3 - "$OUT" "$RANKS" "$PROBE" "$layers" > "$OUT/table.md" <<'PY'
import json, sys
out, ranks, probe, layers = sys.argv[1], sys.argv[2].split(), sys.argv[3], int(sys.argv[4])
load = lambda name: json.load(open(f"{out}/{name}.json"))
print("| bytes/frame | ranks | logits rel. error | WER % |")
print("|---|---|---|---|")
for r in ranks:
    for name in (f"uniform_{r}", f"budget_{r}"):
        j = load(name)
        print(f"| {j['cache_bytes_per_frame_after']} | {' '.join(str(l['latent_dim']) for l in j['layers'])} "
              f"| {j['logits_relative_error']:.3e} | {100 * j['wer_after']:.2f} |")
print(f"\nMHA WER {100 * load('uniform_' + ranks[0])['wer_before']:.2f} %\n")
print(f"| layer at latent {probe} | discarded energy D_l | logits rel. error |")
print("|---|---|---|")
proxy, measured = [], []
for l in range(layers):
    j = load(f"probe_{l}")
    proxy.append(1 - j["layers"][l]["energy_kept"])
    measured.append(j["logits_relative_error"])
    print(f"| {l} | {proxy[-1]:.3e} | {measured[-1]:.3e} |")
rank = lambda v: [sorted(v).index(x) for x in v]
a, b = rank(proxy), rank(measured)
n = len(a)
rho = 1 - 6 * sum((x - y) ** 2 for x, y in zip(a, b)) / (n * (n * n - 1))
print(f"\nSpearman rank correlation of D_l and the logits error over the {n} layers: {rho:.3f}")
PY
cat "$OUT/table.md"
