#!/usr/bin/python3
"""PyTorch eager side of bench/bench_train_step.cpp: one training step (forward, CTC loss
summed / batch, backward, Adam) of the same Conformer CTC model, built from the ESPnet-style
layer classes of scripts/nn_reference.py (conv2d subsampling, rel_pos "latest" attention,
macaron Conformer layers with batch-norm conv modules; no dropout) sized by the arguments:
12 blocks, d_model 256, 4 heads, FFN 4 x d_model, conv kernel 15, 80 fbank bins, a 5000-token
CTC head, batch 32 x 250 input frames at full length and the same fixed labels. Prints the
parameter count (compare it with bench_train_step's), the median ms/step and one JSON line.
Runs under PyTorch 1.13 (Debian, CPU) and 2.x (CUDA).

  train_step_pytorch.py [--device cpu|cuda] [--batch 32] [--frames 250] [--layers 12]
                        [--d-model 256] [--vocab 5000] [--steps 10] [--warmup 3]
                        [--threads 0] [--tf32]
"""
import argparse
import json
import math
import os
import statistics
import sys
import time

import torch
from torch import nn

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "scripts"))
import nn_reference as ref  # noqa: E402


def subsampled(frames):
    """Encoder frames after the two stride-2 convolutions (ints or tensors)."""
    return ((frames - 1) // 2 - 1) // 2


class ConformerCtc(nn.Module):
    """nn_reference's Encoder with its tensors made on the input's device, plus a CTC head."""

    def __init__(self, layers, vocab):
        super().__init__()
        self.embed = ref.Subsampling()
        self.layers = nn.ModuleList([ref.ConformerLayer(relative=True, causal=False)
                                     for _ in range(layers)])
        self.after_norm = ref.layer_norm()
        self.ctc_lo = nn.Linear(ref.D, vocab)
        self.pos_emb = None  # [1, 2T-1, d], made once per length like our positional table

    def forward(self, feats, lengths):  # feats [B, T, bins] -> logits [B, T', vocab], lengths
        x = self.embed(feats) * math.sqrt(ref.D)
        t = x.shape[1]
        if self.pos_emb is None or self.pos_emb.shape[1] != 2 * t - 1:
            self.pos_emb = ref.sinusoids(list(range(t - 1, -t, -1)), ref.D).to(feats.device)
        out_lengths = subsampled(lengths)
        valid = (torch.arange(t, device=feats.device)[None, :] < out_lengths[:, None]).unsqueeze(1)
        for layer in self.layers:
            x = layer(x, valid, ~valid, self.pos_emb)
        return self.ctc_lo(self.after_norm(x)), out_lengths


def fixed_targets(batch, vocab, frames):
    """bench_train_step.cpp's labels: min(10 + 7b mod 21, max(1, T'/2)) per utterance."""
    t_out = subsampled(frames)
    targets = []
    for b in range(batch):
        n = min(10 + (7 * b) % 21, max(1, t_out // 2))
        targets.append([1 + (31 * b + 17 * i) % (vocab - 1) for i in range(n)])
    return targets


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--frames", type=int, default=250)
    p.add_argument("--layers", type=int, default=12)
    p.add_argument("--d-model", type=int, default=256)
    p.add_argument("--vocab", type=int, default=5000)
    p.add_argument("--steps", type=int, default=10)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--threads", type=int, default=0, help="CPU threads (0: PyTorch's default)")
    p.add_argument("--tf32", action="store_true", help="TF32 matmuls and convolutions on CUDA")
    a = p.parse_args()
    if a.device == "cuda" and not torch.cuda.is_available():
        sys.exit("train_step_pytorch.py: --device cuda, but torch.cuda.is_available() is False")
    if a.threads > 0:
        torch.set_num_threads(a.threads)
    if a.device == "cuda":
        # Off unless asked: PyTorch turns TF32 on for cuDNN convolutions by default.
        torch.backends.cuda.matmul.allow_tf32 = a.tf32
        torch.backends.cudnn.allow_tf32 = a.tf32
    ref.D, ref.HEADS, ref.FFN, ref.KERNEL, ref.INPUT_DIM = a.d_model, 4, 4 * a.d_model, 15, 80
    torch.manual_seed(0)
    dev = torch.device(a.device)
    model = ConformerCtc(a.layers, a.vocab).to(dev)
    model.train()
    params = sum(q.numel() for q in model.parameters())
    opt = torch.optim.Adam(model.parameters(), lr=1e-4)
    feats = torch.randn(a.batch, a.frames, 80, device=dev)  # [B, T, 80]
    lengths = torch.full((a.batch,), a.frames, dtype=torch.int64, device=dev)
    labels = fixed_targets(a.batch, a.vocab, a.frames)
    targets = torch.tensor([x for t in labels for x in t], dtype=torch.int64, device=dev)
    target_lengths = torch.tensor([len(t) for t in labels], dtype=torch.int64, device=dev)

    def step():
        logits, out_lengths = model(feats, lengths)
        log_probs = torch.log_softmax(logits, dim=-1).transpose(0, 1)  # [T', B, vocab]
        loss = nn.functional.ctc_loss(log_probs, targets, out_lengths, target_lengths,
                                      reduction="sum") / a.batch
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
        if a.device == "cuda":
            torch.cuda.synchronize()
        return loss.item()

    for _ in range(a.warmup):
        step()
    times, loss = [], 0.0
    for _ in range(a.steps):
        t0 = time.perf_counter()
        loss = step()
        times.append((time.perf_counter() - t0) * 1e3)
    ms = statistics.median(times)
    print(f"pytorch {torch.__version__} train step: {params} parameters, {a.device}, batch "
          f"{a.batch} x {a.frames} frames, {a.layers} layers, d_model {a.d_model}: "
          f"{ms:.2f} ms/step (median of {a.steps}; loss {loss:.3f})")
    print(json.dumps({"bench": "train_step", "impl": "pytorch", "torch": torch.__version__,
                      "device": a.device, "batch": a.batch, "frames": a.frames, "layers": a.layers,
                      "d_model": a.d_model, "vocab": a.vocab, "params": params,
                      "threads": torch.get_num_threads(), "tf32": a.tf32, "steps": a.steps,
                      "ms": round(ms, 3)}))


if __name__ == "__main__":
    main()
