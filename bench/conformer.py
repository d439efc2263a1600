#!/usr/bin/env python3
"""Conformer training-step benchmark: 12 blocks (d_model 256, 4 heads, FFN 1024, kernel 31,
absolute positions, batch 8 x 250 frames), one step = forward, backward, Adam, ours
(build/bench/bench_conformer) beside torchaudio.models.Conformer of the same sizes, at 1 and 2
threads, each run in its own process. Prints step time and peak-memory ratios against
PyTorch's best thread count and at the same thread count, ours 2 threads vs 1, each attention variant's step time
relative to MHA, the step's model GFLOP/s (analytic count, bench/flops.h) against OpenBLAS
sgemm on the step's own matrix shapes, and a long-utterance row: T = 1000 frames with
relative positions (ESPnet-style PyTorch layers of scripts/nn_reference.py, dropout 0 on
both sides), 2 threads. Ends with `ratio <row> threads=<n> <value>` lines.
Usage: conformer.py [--skip-long]"""
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OURS = os.path.join(ROOT, "build", "bench", "bench_conformer")
TORCH = os.path.join(ROOT, "bench", "conformer_torch.py")
VARIANTS = ["mha", "mla", "mla_simple", "gqa", "linear"]


def run(cmd, threads):  # one process; its JSON lines
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), OPENBLAS_NUM_THREADS=str(threads))
    out = subprocess.run(cmd, env=env, check=True, capture_output=True, text=True).stdout
    return [json.loads(line) for line in out.splitlines()]


def main():
    if not os.path.exists(OURS):
        sys.exit(f"{OURS} not found: build first (scripts/build.sh)")
    skip_long = "--skip-long" in sys.argv[1:]
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
    print()
    print(f"{'model GFLOP/s (MHA)':<28} {'threads':>7} {'GFLOP':>9} {'GFLOP/s':>9} "
          f"{'sgemm GFLOP/s':>14}")
    for t in (1, 2):
        r = ours[t]["mha"]
        print(f"{'ours mha':<28} {t:>7} {r['gflop']:>9.1f} {r['gflops']:>9.1f} "
              f"{r['sgemm_gflops']:>14.1f}")
    long = {}
    if not skip_long:
        long["torch"] = run(["/usr/bin/python3", TORCH, "2", "--frames", "1000", "--relative"],
                            2)[0]
        long["ours"] = run([OURS, "--frames", "1000", "--relative", "--dropout", "0", "mha"],
                           2)[0]
        print()
        print(f"{'T = 1000, relative, 2 threads':<28} {'step ms':>9} {'peak MiB':>9}")
        for name, r in (("PyTorch (ESPnet-style)", long["torch"]), ("ours mha", long["ours"])):
            print(f"{name:<28} {r['ms']:>9.1f} {r['peak_mib']:>9.1f}")
    lines = []
    for t in (1, 2):
        r = ours[t]["mha"]
        lines.append(("model_gflops_vs_sgemm", t, r["gflops"] / r["sgemm_gflops"]))
    if long:
        lines.append(("peak_memory_vs_pytorch_T1000_relative", 2,
                      long["ours"]["peak_mib"] / long["torch"]["peak_mib"]))
        lines.append(("step_vs_pytorch_T1000_relative", 2,
                      long["ours"]["ms"] / long["torch"]["ms"]))
    for t in (1, 2):
        lines.append((f"step_vs_pytorch_best", t, ours[t]["mha"]["ms"] / best["ms"]))
        lines.append((f"step_vs_pytorch_same_threads", t,
                      ours[t]["mha"]["ms"] / torch_runs[t]["ms"]))
        lines.append((f"peak_memory_vs_pytorch", t, ours[t]["mha"]["peak_mib"] / torch_runs[t]["peak_mib"]))
    lines.append(("step_2threads_vs_1", 2, ours[2]["mha"]["ms"] / ours[1]["mha"]["ms"]))
    for t in (1, 2):
        for v in VARIANTS[1:]:
            lines.append((f"step_{v}_vs_mha", t, ours[t][v]["ms"] / ours[t]["mha"]["ms"]))
    for row, t, value in lines:
        print(f"ratio {row} threads={t} {value:.3f}")


if __name__ == "__main__":
    main()
