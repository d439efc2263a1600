#!/usr/bin/env python3
"""Conformer training-step benchmark: 12 blocks (d_model 256, 4 heads, FFN 1024, kernel 31,
absolute positions, batch 8 x 250 frames), one step = forward, backward, Adam, ours
(build/bench/bench_conformer) beside torchaudio.models.Conformer of the same sizes, at 1 and 2
threads, each run in its own process. Prints step time and peak-memory ratios against
PyTorch's best thread count, ours 2 threads vs 1, and each attention variant's step time
relative to MHA, ending with `ratio <row> threads=<n> <value>` lines."""
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OURS = os.path.join(ROOT, "build", "bench", "bench_conformer")
TORCH = os.path.join(ROOT, "bench", "conformer_torch.py")
VARIANTS = ["mha", "mla", "mla_simple", "gqa", "linear"]


def run(cmd, threads):
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), OPENBLAS_NUM_THREADS=str(threads))
    out = subprocess.run(cmd, env=env, check=True, capture_output=True, text=True).stdout
    return [json.loads(line) for line in out.splitlines()]


def main():
    if not os.path.exists(OURS):
        sys.exit(f"{OURS} not found: build first (scripts/build.sh)")
    torch_runs = {t: run(["/usr/bin/python3", TORCH, str(t)], t)[0] for t in (1, 2)}
    # One process per variant, so each peak-memory reading is its own.
    ours = {t: {v: run([OURS, v], t)[0] for v in VARIANTS} for t in (1, 2)}
    best = min(torch_runs.values(), key=lambda r: r["ms"])
    print(f"{'run':<28} {'threads':>7} {'step ms':>9} {'peak MiB':>9} {'params':>10}")
    for t in (1, 2):
        r = torch_runs[t]
        print(f"{'torchaudio Conformer':<28} {t:>7} {r['ms']:>9.1f} {r['peak_mib']:>9.1f} {r['params']:>10}")
    for t in (1, 2):
        for v in VARIANTS:
            r = ours[t][v]
            print(f"{'ours ' + v:<28} {t:>7} {r['ms']:>9.1f} {r['peak_mib']:>9.1f} {r['params']:>10}")
    lines = []
    for t in (1, 2):
        lines.append((f"step_vs_pytorch_best", t, ours[t]["mha"]["ms"] / best["ms"]))
        lines.append((f"peak_memory_vs_pytorch", t, ours[t]["mha"]["peak_mib"] / torch_runs[t]["peak_mib"]))
    lines.append(("step_2threads_vs_1", 2, ours[2]["mha"]["ms"] / ours[1]["mha"]["ms"]))
    for t in (1, 2):
        for v in VARIANTS[1:]:
            lines.append((f"step_{v}_vs_mha", t, ours[t][v]["ms"] / ours[t]["mha"]["ms"]))
    for row, t, value in lines:
        print(f"ratio {row} threads={t} {value:.3f}")


if __name__ == "__main__":
    main()
