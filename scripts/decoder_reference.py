#!/usr/bin/python3
"""Golden outputs of a small Transformer decoder from PyTorch.

A PyTorch decoder written here after ESPnet's TransformerDecoder (normalize_before, no
concat_after): embed = Embedding then positional encoding (x * sqrt(d) + sinusoids), layers of
pre-norm causal self-attention, cross-attention to the encoder's output and a ReLU
feed-forward, a final LayerNorm and the output projection. Attention as ESPnet's
MultiHeadedAttention: masked scores set to -inf before the softmax and the weights to 0 after.

Writes tests/data/nn/transformer_decoder.safetensors holding the state_dict under "model.",
the inputs under "input.", the logits (eval mode) and the gradient of every parameter for
sum(logits * input.grad_weights) under "expected.". Run with /usr/bin/python3 from the
repository root; tests/nn/test_pytorch_reference.cpp reads the file.
"""
import math
import os

import torch
from torch import nn

from nn_reference import D, HEADS, EPS, sinusoids, save_safetensors

VOCAB, FFN, LAYERS = 7, 12, 2  # <sos/eos> is VOCAB - 1


class Attention(nn.Module):
    def __init__(self):
        super().__init__()
        self.linear_q, self.linear_k = nn.Linear(D, D), nn.Linear(D, D)
        self.linear_v, self.linear_out = nn.Linear(D, D), nn.Linear(D, D)

    def forward(self, query, key_value, mask):  # mask [B, 1 or T, S], True = may attend
        b, t, _ = query.shape
        s, dk = key_value.shape[1], D // HEADS
        q = self.linear_q(query).view(b, t, HEADS, dk).transpose(1, 2)
        k = self.linear_k(key_value).view(b, s, HEADS, dk).transpose(1, 2)
        v = self.linear_v(key_value).view(b, s, HEADS, dk).transpose(1, 2)
        scores = q @ k.transpose(-2, -1) / math.sqrt(dk)
        masked = ~mask.unsqueeze(1)
        w = torch.softmax(scores.masked_fill(masked, float("-inf")), dim=-1).masked_fill(masked, 0.0)
        return self.linear_out((w @ v).transpose(1, 2).reshape(b, t, D))


class FeedForward(nn.Module):
    def __init__(self):
        super().__init__()
        self.w_1, self.w_2 = nn.Linear(D, FFN), nn.Linear(FFN, D)

    def forward(self, x):
        return self.w_2(torch.relu(self.w_1(x)))


class DecoderLayer(nn.Module):
    def __init__(self):
        super().__init__()
        self.self_attn, self.src_attn, self.feed_forward = Attention(), Attention(), FeedForward()
        self.norm1, self.norm2, self.norm3 = (nn.LayerNorm(D, eps=EPS) for _ in range(3))

    def forward(self, x, self_mask, memory, memory_mask):
        h = self.norm1(x)
        x = x + self.self_attn(h, h, self_mask)
        x = x + self.src_attn(self.norm2(x), memory, memory_mask)
        return x + self.feed_forward(self.norm3(x))


class Decoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Sequential(nn.Embedding(VOCAB, D))
        self.decoders = nn.ModuleList(DecoderLayer() for _ in range(LAYERS))
        self.after_norm = nn.LayerNorm(D, eps=EPS)
        self.output_layer = nn.Linear(D, VOCAB)

    def forward(self, tokens, lengths, memory, memory_lengths):
        b, length = tokens.shape
        x = self.embed(tokens) * math.sqrt(D) + sinusoids(range(length), D)
        real = torch.arange(length)[None, :] < lengths[:, None]                 # [B, L]
        causal = torch.tril(torch.ones(length, length, dtype=torch.bool))      # [L, L]
        self_mask = real[:, None, :] & causal[None]                             # [B, L, L]
        memory_mask = (torch.arange(memory.shape[1])[None, :] < memory_lengths[:, None])[:, None]
        for layer in self.decoders:
            x = layer(x, self_mask, memory, memory_mask)
        return self.output_layer(self.after_norm(x))


def main():
    torch.manual_seed(300)
    model = Decoder()
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.randn_like(p) * 0.3)
    state = {"model." + k: v.clone() for k, v in model.state_dict().items()}
    tokens = torch.tensor([[6, 1, 2, 3], [6, 4, 6, 6]])  # <sos> y, padded with <sos/eos>
    lengths = torch.tensor([4, 2])
    memory = torch.randn(2, 5, D)
    memory_lengths = torch.tensor([5, 3])
    model.eval()
    logits = model(tokens, lengths, memory, memory_lengths)
    real = (torch.arange(4)[None, :] < lengths[:, None]).unsqueeze(-1)
    weights = torch.randn_like(logits) * real
    (logits * weights).sum().backward()
    tensors = dict(state)
    tensors.update({"input.tokens": tokens, "input.lengths": lengths, "input.memory": memory,
                    "input.memory_lengths": memory_lengths, "input.grad_weights": weights,
                    "expected.logits": logits.detach()})
    tensors.update({"expected.grad." + k: p.grad for k, p in model.named_parameters()})
    folder = os.path.join("tests", "data", "nn")
    os.makedirs(folder, exist_ok=True)
    meta = {"vocab_size": str(VOCAB), "num_layers": str(LAYERS), "ffn_dim": str(FFN)}
    save_safetensors(os.path.join(folder, "transformer_decoder.safetensors"), tensors, meta)
    print("transformer_decoder written")


if __name__ == "__main__":
    main()
