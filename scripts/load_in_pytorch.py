#!/usr/bin/python3
"""Loads a latentasr safetensors checkpoint into a PyTorch model by parameter name.

The file format needs no library: 8-byte little-endian header length, a JSON header,
raw little-endian data. Here the PyTorch model is the ESPnet-structured encoder of
scripts/nn_reference.py, loaded with strict=True (every name and shape must map), and its
output is compared with the output latentasr computed for the same input.

    LATENTASR_EXPORT_DIR=/tmp build/tests/nn_test_pytorch_reference
    /usr/bin/python3 scripts/load_in_pytorch.py /tmp/exported_conformer_relative.safetensors

A model file written by asr-train or asr-convert carries its tokenizer and CMVN statistics
(docs/training.md): given one, the script reads them out and prints them as JSON (the
sentencepiece model, if any, is written beside it as <file>.tokenizer.model).

    /usr/bin/python3 scripts/load_in_pytorch.py exp/an4_demo/model.avg.safetensors
"""
import base64
import json
import os
import struct
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import nn_reference  # noqa: E402

DTYPES = {"F32": np.float32, "I64": np.int64, "U8": np.uint8}


def load_safetensors(path):
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n))
        data = f.read()
    meta = header.pop("__metadata__", {})
    tensors = {}
    for name, e in header.items():
        begin, end = e["data_offsets"]
        array = np.frombuffer(data[begin:end], dtype=DTYPES[e["dtype"]]).reshape(e["shape"])
        tensors[name] = torch.from_numpy(array.copy())
    return tensors, meta


def model_assets(tensors, meta):
    """The tokenizer and the feature normalization a model file carries: the tokenizer's
    index (tokenizer.json: type, and the pieces of a character tokenizer, id = position; id 0
    is the CTC blank), the sentencepiece model bytes (our id = sentencepiece id + 1), and
    mean and std with which features are normalized, (x - mean) / std."""
    index = json.loads(meta["tokenizer.json"])
    model = base64.b64decode(meta["tokenizer.model"]) if "tokenizer.model" in meta else None
    return index, model, tensors.get("cmvn.mean"), tensors.get("cmvn.std")


def print_assets(path, tensors, meta):
    index, model, mean, std = model_assets(tensors, meta)
    out = {"tokenizer": index}
    if model is not None:
        with open(path + ".tokenizer.model.tmp", "wb") as f:  # then renamed: never half a file
            f.write(model)  # sentencepiece.SentencePieceProcessor(model_file=...) reads it
        os.replace(path + ".tokenizer.model.tmp", path + ".tokenizer.model")
        out["tokenizer_model_bytes"] = len(model)
    if mean is not None:
        feats = torch.zeros(3, mean.numel())  # what a PyTorch front end does with them
        out["normalized_zeros"] = ((feats - mean) / std)[0].tolist()
        out["cmvn_mean"], out["cmvn_std"] = mean.tolist(), std.tolist()
    print(json.dumps(out))


def main():
    tensors, meta = load_safetensors(sys.argv[1])
    if "tokenizer.json" in meta:
        print_assets(sys.argv[1], tensors, meta)
        return
    state = {k[len("model."):]: v for k, v in tensors.items() if k.startswith("model.")}
    model = nn_reference.Encoder(meta["type"], meta["positional_encoding"] == "relative", meta["merge"])
    model.load_state_dict(state, strict=True)
    model.eval()
    with torch.no_grad():
        out, _ = model(tensors["input.feats"], tensors["input.lengths"])
    diff = (out - tensors["expected.out_eval"]).abs().max().item()
    print(f"loaded {len(state)} tensors by name ({sum(v.numel() for v in state.values())} numbers); "
          f"max |pytorch - latentasr| = {diff:.2e}")
    sys.exit(0 if diff < 1e-5 else 1)


if __name__ == "__main__":
    main()
