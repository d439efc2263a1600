#!/usr/bin/env python3
"""Attention benchmark: forward + backward of each variant (relative positions, padding
mask, dropout 0.1, training) in ours (build/bench/bench_attention) and in PyTorch, the
latter written here from the same formulas (ESPnet's RelPositionMultiHeadedAttention for
the softmax variants), at 1 and 2 threads in one run. Prints a table and one
`ratio <row> threads=<n> <value>` line per row (ours / PyTorch; below 1 is faster)."""
import math
import os
import sys

import torch
from torch import nn

from core import median_ms, run_rows

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BINARY = os.path.join(ROOT, "build", "bench", "bench_attention")
B, T, D, H, LATENT, KV_HEADS = 4, 200, 256, 4, 128, 2


def rel_shift(x):
    """[B, H, T, 2T-1] -> [B, H, T, T], ESPnet's "latest" pad-and-reshape form."""
    b, h, t, p = x.shape
    padded = torch.cat([x.new_zeros(b, h, t, 1), x], dim=-1).view(b, h, p + 1, t)
    return padded[:, :, 1:].view_as(x)[:, :, :, : p // 2 + 1]


class Attention(nn.Module):
    def __init__(self, kind, relative):
        super().__init__()
        self.kind, self.relative, self.d_k = kind, relative, D // H
        kv = KV_HEADS * self.d_k if kind == "gqa" else D
        self.linear_q = nn.Linear(D, D)
        if kind in ("mla", "mla_simple"):
            self.linear_dkv = nn.Linear(D, LATENT, bias=False)
            self.linear_uk, self.linear_uv = nn.Linear(LATENT, D), nn.Linear(LATENT, D)
        else:
            self.linear_k, self.linear_v = nn.Linear(D, kv), nn.Linear(D, kv)
        self.linear_out = nn.Linear(D, D)
        if relative and kind != "linear":
            self.linear_pos = nn.Linear(D, D, bias=False)
            self.pos_bias_u = nn.Parameter(torch.randn(H, self.d_k))
            self.pos_bias_v = nn.Parameter(torch.randn(H, self.d_k))
        self.dropout = nn.Dropout(0.1)

    def heads(self, x, n):
        return x.view(x.size(0), -1, n, self.d_k).transpose(1, 2)

    def forward(self, x, mask, pos_emb):
        if self.kind in ("mla", "mla_simple"):
            c = self.linear_dkv(x)
            k, v = self.linear_uk(c), self.linear_uv(c)
        else:
            k, v = self.linear_k(x), self.linear_v(x)
        groups = KV_HEADS if self.kind == "gqa" else H
        q, k, v = self.heads(self.linear_q(x), H), self.heads(k, groups), self.heads(v, groups)
        if self.kind == "gqa":
            k, v = k.repeat_interleave(H // groups, 1), v.repeat_interleave(H // groups, 1)
        if self.kind == "linear":
            return self.linear_out(self.linear_attention(q, k, v, mask))
        qt = q.transpose(1, 2)  # [B, T, H, d_k]
        if self.relative:
            p = self.heads(self.linear_pos(pos_emb), H)
            ac = torch.matmul((qt + self.pos_bias_u).transpose(1, 2), k.transpose(-2, -1))
            bd = rel_shift(torch.matmul((qt + self.pos_bias_v).transpose(1, 2), p.transpose(-2, -1)))
            scores = (ac + bd) / math.sqrt(self.d_k)
        else:
            scores = torch.matmul(q, k.transpose(-2, -1)) / math.sqrt(self.d_k)
        masked = mask.unsqueeze(1).eq(0)
        scores = scores.masked_fill(masked, torch.finfo(scores.dtype).min)
        attn = self.dropout(torch.softmax(scores, dim=-1).masked_fill(masked, 0.0))
        out = torch.matmul(attn, v).transpose(1, 2).reshape(x.size(0), -1, D)
        return self.linear_out(out)

    def linear_attention(self, q, k, v, mask):
        fq, fk = nn.functional.elu(q) + 1, nn.functional.elu(k) + 1
        fk = fk * mask.transpose(1, 2).unsqueeze(1).to(fk.dtype)
        s, z = torch.matmul(fk.transpose(-2, -1), v), fk.sum(2, keepdim=True)
        out = torch.matmul(fq, s) / (torch.matmul(fq, z.transpose(-2, -1)) + 1e-6)
        return out.transpose(1, 2).reshape(q.size(0), -1, D)


def torch_rows():
    torch.manual_seed(0)
    lengths = torch.tensor([200, 180, 150, 120])
    mask = (torch.arange(T)[None, :] < lengths[:, None]).unsqueeze(1)  # [B, 1, T]
    rows = {}
    for kind, relative in [(k, True) for k in ("mha", "mla", "mla_simple", "gqa", "linear")] + [("mha", False)]:
        m = Attention(kind, relative)
        x = torch.randn(B, T, D, requires_grad=True)
        pos = torch.randn(1, 2 * T - 1, D)
        g = torch.randn(B, T, D)

        def step():
            m(x, mask, pos).backward(g)
            m.zero_grad(set_to_none=True)
            x.grad = None
        rows[f"{kind}_{'rel' if relative else 'abs'}"] = median_ms(step)
    return rows


def main():
    if not os.path.exists(BINARY):
        sys.exit(f"{BINARY} not found: build first (scripts/build.sh)")
    results = []
    for threads in (1, 2):
        torch.set_num_threads(threads)
        mine, ref = run_rows(BINARY, threads), torch_rows()
        results += [(row, threads, mine[row], ref[row]) for row in ref]
    print(f"{'row':<16} {'threads':>7} {'ours ms':>9} {'torch ms':>9} {'ratio':>6}")
    for row, threads, m, r in results:
        print(f"{row:<16} {threads:>7} {m:>9.3f} {r:>9.3f} {m / r:>6.3f}")
    for row, threads, m, r in results:
        print(f"ratio {row} threads={threads} {m / r:.3f}")


if __name__ == "__main__":
    main()
