#!/usr/bin/python3
"""Loads a latentasr safetensors checkpoint into a PyTorch model by parameter name.

The file format needs no library: 8-byte little-endian header length, a JSON header,
raw little-endian data. Here the PyTorch model is the ESPnet-structured encoder of
scripts/nn_reference.py, loaded with strict=True (every name and shape must map), and its
output is compared with the output latentasr computed for the same input.

    LATENTASR_EXPORT_DIR=/tmp build/tests/nn_test_pytorch_reference
    /usr/bin/python3 scripts/load_in_pytorch.py /tmp/exported_conformer_relative.safetensors
"""
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


def main():
    tensors, meta = load_safetensors(sys.argv[1])
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
