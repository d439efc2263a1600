#!/usr/bin/env python3
"""PyTorch side of the Conformer step benchmark: one training step (forward, backward, Adam)
with the sizes of bench/bench_conformer.cpp. Absolute positions: torchaudio.models.Conformer.
Relative positions (torchaudio has none): the ESPnet-style layers of scripts/nn_reference.py
(rel_pos "latest" attention, macaron Conformer layers) at these sizes, without dropout (those
layers have none; the C++ side is then run with --dropout 0). Prints one JSON line: median
step ms and the peak resident memory the steps added (MiB).
Usage: conformer_torch.py THREADS [--frames T] [--relative]"""
import argparse
import json
import os
import resource
import statistics
import sys
import time

import torch
import torchaudio

LAYERS, D, HEADS, FFN, KERNEL, BATCH = 12, 256, 4, 1024, 31, 8


def rss_mib():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def relative_model():
    """12 ESPnet-style Conformer layers with relative positions, and their forward."""
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                    "scripts"))
    import nn_reference as ref
    ref.D, ref.HEADS, ref.FFN, ref.KERNEL = D, HEADS, FFN, KERNEL
    layers = torch.nn.ModuleList([ref.ConformerLayer(relative=True, causal=False)
                                  for _ in range(LAYERS)])

    tables = {}  # built once per length, outside the timed steps

    def forward(x):
        t = x.shape[1]
        if t not in tables:
            mask = torch.ones(x.shape[0], 1, t, dtype=torch.bool)
            tables[t] = (ref.sinusoids(list(range(t - 1, -t, -1)), D), mask, ~mask)
        pos_emb, mask, pad = tables[t]
        for layer in layers:
            x = layer(x, mask, pad, pos_emb)
        return x

    return layers, forward


def main():
    p = argparse.ArgumentParser()
    p.add_argument("threads", type=int)
    p.add_argument("--frames", type=int, default=250)
    p.add_argument("--relative", action="store_true")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    if a.relative:
        model, forward = relative_model()
    else:
        model = torchaudio.models.Conformer(input_dim=D, num_heads=HEADS, ffn_dim=FFN,
                                            num_layers=LAYERS, depthwise_conv_kernel_size=KERNEL,
                                            dropout=0.1)
        lengths = torch.full((BATCH,), a.frames, dtype=torch.int64)

        def forward(x):
            return model(x, lengths)[0]
    model.train()
    opt = torch.optim.Adam(model.parameters(), lr=1e-4)
    x = torch.randn(BATCH, a.frames, D)
    base = rss_mib()

    def step():
        out = forward(x)
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
