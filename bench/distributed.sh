#!/usr/bin/env bash
# Data-parallel throughput of asr-train on the AN4 demo config: training frames per second
# with 1 rank x 2 OpenMP threads against 2 ranks x 1 thread (same cores; each rank keeps the
# demo's batch_frames, so 2 ranks make global batches twice as large), over STEPS optimizer
# steps (the first log interval, warm-up, left out), and the share of the gradient
# all-reduce hidden behind backward (asr-train's "data parallel" report), with the default
# 25 MB buckets (the demo's 14.6 MB of gradients: a 1 MB first bucket, then the rest in one)
# and with BUCKET_MB (default 1) buckets throughout.
#   bench/distributed.sh [DATA_DIR (default data/an4)]     STEPS=40 BUCKET_MB=1 bench/distributed.sh
set -euo pipefail
cd "$(dirname "$0")/.."
data=${1:-data/an4}
steps=${STEPS:-40}
bucket_mb=${BUCKET_MB:-1}
out=$(mktemp -d /tmp/latentasr_bench_dist.XXXXXX)
common=(--config recipes/an4/demo.yaml --max-steps "$steps" --set "data.train=$data/train"
        --set "data.dev=$data/dev" --set train.log_every=10)

OMP_NUM_THREADS=2 build/bin/asr-train "${common[@]}" --output-dir "$out/1rank" 2> "$out/1rank.log"
two_ranks=(env OMP_NUM_THREADS=1 mpirun -np 2 --oversubscribe --allow-run-as-root -x OMP_NUM_THREADS
           build/bin/asr-train "${common[@]}")
"${two_ranks[@]}" --output-dir "$out/2ranks" 2> "$out/2ranks.log"
"${two_ranks[@]}" --set "train.bucket_mb=$bucket_mb" --output-dir "$out/2ranks_small" 2> "$out/2ranks_small.log"

python3 - "$out" "$bucket_mb" <<'PY'
import json, sys
out, bucket_mb = sys.argv[1:]
def read(run):
    rows = [json.loads(l) for l in open(f"{out}/{run}/metrics.jsonl")]
    train = [r["frames_per_second"] for r in rows if r["kind"] == "train"][1:]
    dp = [r for r in rows if r["kind"] == "data_parallel"]
    return sum(train) / len(train), (dp[0] if dp else None)
def report(dp):
    return (f"{dp['gradient_bytes'] / 1e6:.1f} MB in {dp['buckets']} buckets; blocking all-reduce "
            f"{dp['blocking_all_reduce_seconds'] * 1e3:.2f} ms, exposed after the last backward "
            f"{dp['exposed_seconds_per_step'] * 1e3:.2f} ms, waited in total "
            f"{dp['wait_seconds_per_step'] * 1e3:.2f} ms per step: "
            f"{100 * dp['hidden_fraction']:.0f}% hidden")
one, _ = read("1rank")
print(f"1 rank x 2 threads:           {one:8.0f} frames/s")
for run, name in (("2ranks", "25 MB buckets"), ("2ranks_small", f"{bucket_mb} MB buckets")):
    fps, dp = read(run)
    print(f"2 ranks x 1 thread, {name}: {fps:8.0f} frames/s ({fps / one:.2f}x); {report(dp)}")
PY
echo "logs: $out" >&2
