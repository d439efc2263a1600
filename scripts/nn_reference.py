#!/usr/bin/python3
"""Golden outputs of small Conformer and Branchformer encoders from PyTorch.

A PyTorch encoder written here after ESPnet's ConformerEncoder / BranchformerEncoder
(conv2d input layer, rel_pos "latest" or abs_pos, macaron Conformer layers with Swish,
Branchformer layers with cgMLP) with one deliberate difference that this project makes:
padded frames are zeroed before each depthwise convolution (after the GLU in the conv
module, after the LayerNorm in the CSGU), so padding never reaches real frames.

Writes tests/data/nn/<variant>.safetensors holding the model's state_dict under "model.",
the inputs under "input.", and the outputs under "expected." (eval mode, and train mode
with dropout 0, i.e. batch statistics in the batch norms). Run with /usr/bin/python3 from
the repository root; tests/nn/test_pytorch_reference.cpp reads the files.
"""
import json
import math
import os
import struct

import torch
from torch import nn

D, HEADS, FFN, KERNEL, UNITS, INPUT_DIM, LAYERS = 8, 2, 12, 3, 10, 9, 2
EPS = 1e-12  # ESPnet's LayerNorm


def sinusoids(positions, d):
    w = torch.exp(torch.arange(0, d, 2, dtype=torch.float64) * -(math.log(10000.0) / d))
    pe = torch.zeros(len(positions), d, dtype=torch.float64)
    p = torch.tensor(positions, dtype=torch.float64).unsqueeze(1)
    pe[:, 0::2] = torch.sin(p * w)
    pe[:, 1::2] = torch.cos(p * w)
    return pe.float().unsqueeze(0)


def rel_shift(x):  # [B, H, T, 2T-1] -> [B, H, T, T], ESPnet's "latest" rel_shift
    b, h, t, p = x.shape
    padded = torch.cat([x.new_zeros(b, h, t, 1), x], dim=-1).view(b, h, p + 1, t)
    return padded[:, :, 1:].reshape(b, h, t, p)[:, :, :, : p // 2 + 1]


class Attention(nn.Module):
    def __init__(self, relative):
        super().__init__()
        self.linear_q, self.linear_k = nn.Linear(D, D), nn.Linear(D, D)
        self.linear_v, self.linear_out = nn.Linear(D, D), nn.Linear(D, D)
        self.relative = relative
        if relative:
            self.linear_pos = nn.Linear(D, D, bias=False)
            self.pos_bias_u = nn.Parameter(torch.zeros(HEADS, D // HEADS))
            self.pos_bias_v = nn.Parameter(torch.zeros(HEADS, D // HEADS))

    def forward(self, x, mask, pos_emb):
        b, t, _ = x.shape
        dk = D // HEADS
        q = self.linear_q(x).view(b, t, HEADS, dk)
        k = self.linear_k(x).view(b, t, HEADS, dk).transpose(1, 2)
        v = self.linear_v(x).view(b, t, HEADS, dk).transpose(1, 2)
        if self.relative:
            p = self.linear_pos(pos_emb).view(1, -1, HEADS, dk).transpose(1, 2)
            ac = (q + self.pos_bias_u).transpose(1, 2) @ k.transpose(-2, -1)
            bd = rel_shift((q + self.pos_bias_v).transpose(1, 2) @ p.transpose(-2, -1))
            scores = (ac + bd) / math.sqrt(dk)
        else:
            scores = q.transpose(1, 2) @ k.transpose(-2, -1) / math.sqrt(dk)
        masked = mask.unsqueeze(1).eq(0)  # [B, 1, 1|T, T]
        scores = scores.masked_fill(masked, torch.finfo(scores.dtype).min)
        attn = torch.softmax(scores, dim=-1).masked_fill(masked, 0.0)
        return self.linear_out((attn @ v).transpose(1, 2).reshape(b, t, D))


class FeedForward(nn.Module):
    def __init__(self):
        super().__init__()
        self.w_1, self.w_2 = nn.Linear(D, FFN), nn.Linear(FFN, D)

    def forward(self, x):
        return self.w_2(torch.nn.functional.silu(self.w_1(x)))


class ConvModule(nn.Module):
    def __init__(self, causal):
        super().__init__()
        self.pointwise_conv1 = nn.Conv1d(D, 2 * D, 1)
        self.causal = causal  # KERNEL-1 zeros on the left instead of centred padding
        self.depthwise_conv = nn.Conv1d(D, D, KERNEL, padding=0 if causal else (KERNEL - 1) // 2,
                                        groups=D)
        self.norm = nn.BatchNorm1d(D)
        self.pointwise_conv2 = nn.Conv1d(D, D, 1)

    def forward(self, x, pad):  # pad [B, 1, T], True at padded frames
        x = nn.functional.glu(self.pointwise_conv1(x.transpose(1, 2)), dim=1)
        x = x.masked_fill(pad, 0.0)
        if self.causal:
            x = nn.functional.pad(x, (KERNEL - 1, 0))
        x = nn.functional.silu(self.norm(self.depthwise_conv(x)))
        return self.pointwise_conv2(x).transpose(1, 2)


def layer_norm(n=None):
    return nn.LayerNorm(n or D, eps=EPS)


class ConformerLayer(nn.Module):
    def __init__(self, relative, causal):
        super().__init__()
        self.self_attn = Attention(relative)
        self.feed_forward, self.feed_forward_macaron = FeedForward(), FeedForward()
        self.conv_module = ConvModule(causal)
        self.norm_ff, self.norm_mha, self.norm_ff_macaron = layer_norm(), layer_norm(), layer_norm()
        self.norm_conv, self.norm_final = layer_norm(), layer_norm()

    def forward(self, x, mask, pad, pos_emb):
        x = x + 0.5 * self.feed_forward_macaron(self.norm_ff_macaron(x))
        x = x + self.self_attn(self.norm_mha(x), mask, pos_emb)
        x = x + self.conv_module(self.norm_conv(x), pad)
        x = x + 0.5 * self.feed_forward(self.norm_ff(x))
        return self.norm_final(x)


class CSGU(nn.Module):
    def __init__(self):
        super().__init__()
        self.norm = layer_norm(UNITS // 2)
        self.conv = nn.Conv1d(UNITS // 2, UNITS // 2, KERNEL, padding=(KERNEL - 1) // 2,
                              groups=UNITS // 2)

    def forward(self, x, pad):
        x_r, x_g = x.chunk(2, dim=-1)
        x_g = self.norm(x_g).transpose(1, 2).masked_fill(pad, 0.0)
        return x_r * self.conv(x_g).transpose(1, 2)


class CgMLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.channel_proj1 = nn.Sequential(nn.Linear(D, UNITS), nn.GELU())
        self.csgu = CSGU()
        self.channel_proj2 = nn.Linear(UNITS // 2, D)

    def forward(self, x, pad):
        return self.channel_proj2(self.csgu(self.channel_proj1(x), pad))


class BranchformerLayer(nn.Module):
    def __init__(self, relative, merge):
        super().__init__()
        self.attn, self.cgmlp = Attention(relative), CgMLP()
        self.norm_mha, self.norm_mlp, self.norm_final = layer_norm(), layer_norm(), layer_norm()
        self.merge = merge
        if merge == "learned_ave":
            self.pooling_proj1, self.pooling_proj2 = nn.Linear(D, 1), nn.Linear(D, 1)
            self.weight_proj1, self.weight_proj2 = nn.Linear(D, 1), nn.Linear(D, 1)
            self.merge_proj = nn.Linear(D, D)
        else:
            self.merge_proj = nn.Linear(2 * D, D)

    def pool(self, proj, x, valid):  # valid [B, 1, T]
        score = proj(x).transpose(1, 2) / D**0.5
        score = score.masked_fill(valid.eq(0), torch.finfo(score.dtype).min)
        score = torch.softmax(score, dim=-1).masked_fill(valid.eq(0), 0.0)
        return (score @ x).squeeze(1)

    def forward(self, x, mask, pad, pos_emb):
        x1 = self.attn(self.norm_mha(x), mask, pos_emb)
        x2 = self.cgmlp(self.norm_mlp(x), pad)
        if self.merge == "learned_ave":
            valid = ~pad
            w1 = self.weight_proj1(self.pool(self.pooling_proj1, x1, valid))
            w2 = self.weight_proj2(self.pool(self.pooling_proj2, x2, valid))
            w = torch.softmax(torch.cat([w1, w2], dim=-1), dim=-1).unsqueeze(-1).unsqueeze(-1)
            merged = self.merge_proj(w[:, 0] * x1 + w[:, 1] * x2)
        else:
            merged = self.merge_proj(torch.cat([x1, x2], dim=-1))
        return self.norm_final(x + merged)


class Subsampling(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Sequential(nn.Conv2d(1, D, 3, 2), nn.ReLU(), nn.Conv2d(D, D, 3, 2), nn.ReLU())
        self.out = nn.Sequential(nn.Linear(D * (((INPUT_DIM - 1) // 2 - 1) // 2), D))

    def forward(self, x):
        x = self.conv(x.unsqueeze(1))
        b, c, t, f = x.shape
        return self.out(x.transpose(1, 2).reshape(b, t, c * f))


def chunk_mask(t, chunk, left_chunks):  # [T, T], WeNet's subsequent_chunk_mask
    i = torch.arange(t)[:, None] // chunk
    j = torch.arange(t)[None, :] // chunk
    return (j <= i) & (j >= i - left_chunks) if left_chunks >= 0 else j <= i


class Encoder(nn.Module):
    def __init__(self, kind, relative, merge, causal=False, chunk=0, left_chunks=-1):
        super().__init__()
        self.embed = Subsampling()
        self.relative = relative
        self.chunk, self.left_chunks = chunk, left_chunks
        make = (lambda: ConformerLayer(relative, causal)) if kind == "conformer" else (
            lambda: BranchformerLayer(relative, merge))
        self.layers = nn.ModuleList([make() for _ in range(LAYERS)])
        self.after_norm = layer_norm()

    def forward(self, feats, lengths):
        x = self.embed(feats) * math.sqrt(D)
        t = x.shape[1]
        out_lengths = ((lengths - 1) // 2 - 1) // 2
        valid = (torch.arange(t)[None, :] < out_lengths[:, None]).unsqueeze(1)  # [B, 1, T]
        if self.relative:
            pos_emb = sinusoids(list(range(t - 1, -t, -1)), D)
        else:
            x, pos_emb = x + sinusoids(list(range(t)), D), None
        mask = valid
        if self.chunk > 0:  # [B, T, T]; a padded query keeps its chunk's padded keys
            mask = chunk_mask(t, self.chunk, self.left_chunks)[None] & (valid | ~valid.transpose(1, 2))
        for layer in self.layers:
            x = layer(x, mask, ~valid, pos_emb)
        return self.after_norm(x), out_lengths


def save_safetensors(path, tensors, metadata):
    header, blobs, offset = {"__metadata__": metadata}, [], 0
    for name, t in tensors.items():
        t = t.detach().contiguous()
        dtype = {torch.float32: "F32", torch.int64: "I64"}[t.dtype]
        data = t.numpy().tobytes()
        header[name] = {"dtype": dtype, "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    head = json.dumps(header).encode()
    head += b" " * (-len(head) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(head)) + head + b"".join(blobs))


def make(kind, relative, merge, seed, causal=False, chunk=0, left_chunks=-1):
    torch.manual_seed(seed)
    model = Encoder(kind, relative, merge, causal, chunk, left_chunks)
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.randn_like(p) * 0.3)
        for name, b in model.named_buffers():
            if name.endswith("running_mean"):
                b.copy_(torch.randn_like(b) * 0.2)
            elif name.endswith("running_var"):
                b.copy_(torch.rand_like(b) + 0.5)
    state = {"model." + k: v.clone() for k, v in model.state_dict().items()}
    feats = torch.randn(2, 27, INPUT_DIM)
    lengths = torch.tensor([27, 15])
    with torch.no_grad():
        model.eval()
        out_eval, out_lengths = model(feats, lengths)
    model.train()
    out_train, _ = model(feats, lengths)
    # Gradients of sum(out_train * weights) for every parameter, on the real frames only.
    real = (torch.arange(out_train.shape[1])[None, :] < out_lengths[:, None]).unsqueeze(-1)
    weights = torch.randn_like(out_train) * real
    (out_train * weights).sum().backward()
    tensors = dict(state)
    tensors.update({"input.feats": feats, "input.lengths": lengths, "expected.lengths": out_lengths,
                    "expected.out_eval": out_eval, "expected.out_train": out_train.detach(),
                    "input.grad_weights": weights})
    tensors.update({"expected.grad." + k: p.grad for k, p in model.named_parameters()})
    return tensors


def main():
    folder = os.path.join("tests", "data", "nn")
    os.makedirs(folder, exist_ok=True)
    variants = [("conformer", True, "concat"), ("conformer", False, "concat"),
                ("branchformer", True, "concat"), ("branchformer", True, "learned_ave")]
    for i, (kind, relative, merge) in enumerate(variants):
        name = f"{kind}_{'relative' if relative else 'absolute'}" + (f"_{merge}" if kind == "branchformer" else "")
        tensors = make(kind, relative, merge, seed=100 + i)
        meta = {"type": kind, "positional_encoding": "relative" if relative else "absolute", "merge": merge}
        save_safetensors(os.path.join(folder, name + ".safetensors"), tensors, meta)
        print(name, "written")
    # Streaming form: causal depthwise convolutions and a chunk mask (chunks of 2 frames,
    # 1 chunk of history).
    tensors = make("conformer", True, "concat", seed=200, causal=True, chunk=2, left_chunks=1)
    meta = {"type": "conformer", "positional_encoding": "relative", "merge": "concat",
            "causal": "true", "chunk_size": "2", "left_chunks": "1"}
    save_safetensors(os.path.join(folder, "conformer_relative_causal_chunk.safetensors"), tensors, meta)
    print("conformer_relative_causal_chunk written")


if __name__ == "__main__":
    main()
