#!/usr/bin/env python3
"""Core-op benchmark: our ops (build/bench/bench_core) beside the same computations in
PyTorch (Debian's python3-torch), at 1 and 2 threads, in one run. Prints a table and one
`ratio <row> threads=<n> <value>` line per row (ours / reference; below 1 is faster).
matmul rows are compared with raw cblas_sgemm measured in the same binary."""
import json
import os
import statistics
import subprocess
import sys
import time

import torch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BINARY = os.path.join(ROOT, "build", "bench", "bench_core")


def median_ms(fn, warmup=3, min_reps=10, min_seconds=0.5):
    for _ in range(warmup):
        fn()
    times, start = [], time.perf_counter()
    while len(times) < min_reps or time.perf_counter() - start < min_seconds:
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1e3)
        if len(times) >= 1000:
            break
    return statistics.median(times)


def torch_rows():
    torch.manual_seed(0)
    rows = {}
    x, w = torch.randn(2000, 256), torch.randn(1024, 256)
    rows["matmul_ffn"] = median_ms(lambda: torch.matmul(x, w.t()))
    q, k = torch.randn(32, 250, 64), torch.randn(32, 250, 64)
    rows["matmul_attn"] = median_ms(lambda: torch.matmul(q, k.transpose(1, 2)))
    scores = torch.randn(8, 4, 250, 250)
    rows["softmax"] = median_ms(lambda: torch.softmax(scores, -1))
    s = torch.randn(8, 4, 250, 250, requires_grad=True)
    g = torch.randn(8, 4, 250, 250)

    def softmax_fb():
        torch.softmax(s, -1).backward(g)
        s.grad = None
    rows["softmax_fwd_bwd"] = median_ms(softmax_fb)
    xl, wl, bl = torch.randn(8, 250, 256), torch.ones(256), torch.zeros(256)
    rows["layer_norm"] = median_ms(lambda: torch.nn.functional.layer_norm(xl, (256,), wl, bl))
    xg = torch.randn(8, 250, 256, requires_grad=True)
    wg, bg = torch.ones(256, requires_grad=True), torch.zeros(256, requires_grad=True)
    gl = torch.randn(8, 250, 256)

    def ln_fb():
        torch.nn.functional.layer_norm(xg, (256,), wg, bg).backward(gl)
        xg.grad = wg.grad = bg.grad = None
    rows["layer_norm_fwd_bwd"] = median_ms(ln_fb)
    dims = [256, 1024, 1024, 1024, 256]
    layers = []
    for i in range(4):
        layers += [torch.nn.Linear(dims[i], dims[i + 1])]
        if i < 3:
            layers += [torch.nn.ReLU()]
    mlp = torch.nn.Sequential(*layers)
    xm = torch.randn(2000, 256)

    def mlp_fb():
        (mlp(xm) ** 2).mean().backward()
        mlp.zero_grad(set_to_none=True)
    rows["mlp_fwd_bwd"] = median_ms(mlp_fb)
    return rows


def run_rows(binary, threads):
    """{row: ms} printed as JSON lines by one of our benchmark binaries at `threads` threads."""
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), OPENBLAS_NUM_THREADS=str(threads))
    out = subprocess.run([binary], env=env, check=True, capture_output=True, text=True).stdout
    return {r["row"]: r["ms"] for r in map(json.loads, out.splitlines())}


def ours(threads):
    return run_rows(BINARY, threads)


def main():
    if not os.path.exists(BINARY):
        sys.exit(f"{BINARY} not found: build first (scripts/build.sh)")
    results = []
    for threads in (1, 2):
        torch.set_num_threads(threads)
        mine, ref = ours(threads), torch_rows()
        for row in ("matmul_ffn", "matmul_attn"):
            results.append((row, threads, mine[row], mine[row + "_sgemm"], "raw sgemm", ref[row]))
        for row in ("softmax", "softmax_fwd_bwd", "layer_norm", "layer_norm_fwd_bwd", "mlp_fwd_bwd"):
            results.append((row, threads, mine[row], ref[row], "pytorch", ref[row]))
    print(f"{'row':<20} {'threads':>7} {'ours ms':>9} {'ref ms':>9} {'ref':<10} {'torch ms':>9} {'ratio':>6}")
    for row, threads, m, r, kind, t in results:
        print(f"{row:<20} {threads:>7} {m:>9.3f} {r:>9.3f} {kind:<10} {t:>9.3f} {m / r:>6.3f}")
    for row, threads, m, r, _, _ in results:
        print(f"ratio {row} threads={threads} {m / r:.3f}")


if __name__ == "__main__":
    main()
