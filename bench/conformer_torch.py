#!/usr/bin/env python3
"""PyTorch side of the Conformer step benchmark: one training step (forward, backward, Adam)
of torchaudio.models.Conformer with the sizes of bench/bench_conformer.cpp. Prints one JSON
line: median step ms and the peak resident memory the steps added (MiB).
Usage: conformer_torch.py THREADS"""
import json
import resource
import statistics
import sys
import time

import torch
import torchaudio

LAYERS, D, HEADS, FFN, KERNEL, BATCH, FRAMES = 12, 256, 4, 1024, 31, 8, 250


def rss_mib():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def main():
    torch.set_num_threads(int(sys.argv[1]))
    torch.manual_seed(0)
    model = torchaudio.models.Conformer(input_dim=D, num_heads=HEADS, ffn_dim=FFN, num_layers=LAYERS,
                                        depthwise_conv_kernel_size=KERNEL, dropout=0.1)
    model.train()
    opt = torch.optim.Adam(model.parameters(), lr=1e-4)
    x = torch.randn(BATCH, FRAMES, D)
    lengths = torch.full((BATCH,), FRAMES, dtype=torch.int64)
    base = rss_mib()

    def step():
        out, _ = model(x, lengths)
        (out * out).mean().backward()
        opt.step()
        opt.zero_grad(set_to_none=True)

    step()
    times = []
    for _ in range(5):
        t0 = time.perf_counter()
        step()
        times.append((time.perf_counter() - t0) * 1e3)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"ms": statistics.median(times), "peak_mib": peak - base,
                      "params": sum(p.numel() for p in model.parameters())}))


if __name__ == "__main__":
    main()
