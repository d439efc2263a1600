#!/usr/bin/python3
"""Writes tests/data/fbank/fbank_golden.safetensors: torchaudio's Kaldi-compatible fbank
(torchaudio.compliance.kaldi.fbank(waveform * 32768, num_mel_bins=80, dither=0)) of short
segments of real AN4 speech. tests/asr/data/test_fbank.cpp reads it and compares asr::Fbank
within 1e-3. Run with /usr/bin/python3 (Debian's torch and torchaudio); not part of CI.

Each case is one tensor `fbank.<i>` [frames, 80]; `__metadata__["cases"]` is a JSON list of
{"path" (relative to the AN4 folder), "start", "end" (seconds), "snip_edges"}.
`dithered_silence_mean` [80] is the mean over 60 s of zeros with dither=1.0, per bin.
AN4 is ../shared/data/an4 beside the repository, or $LATENTASR_AN4."""
import json
import os
import struct

import torch
import torchaudio
import torchaudio.compliance.kaldi as kaldi

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
AN4 = os.environ.get("LATENTASR_AN4") or os.path.join(ROOT, "..", "shared", "data", "an4")
OUT = os.path.join(ROOT, "tests", "data", "fbank", "fbank_golden.safetensors")
RATE = 16000

CASES = [
    {"path": "dev/1006/1/1006-1-9001.flac", "start": 0.0, "end": 1.0, "snip_edges": True},
    {"path": "train/1045/1/1045-1-9007.flac", "start": 0.5, "end": 1.5, "snip_edges": True},
    {"path": "train/1073/1/1073-1-0359.flac", "start": 1.0, "end": 1.3, "snip_edges": False},
]


def features(case):
    first, last = round(case["start"] * RATE), round(case["end"] * RATE)
    wave, rate = torchaudio.load(os.path.join(AN4, case["path"]), frame_offset=first,
                                 num_frames=last - first)
    assert rate == RATE and wave.shape == (1, last - first), (case, rate, wave.shape)
    return kaldi.fbank(wave * 32768, num_mel_bins=80, dither=0.0, snip_edges=case["snip_edges"])


def dithered_silence_mean():
    """Kaldi's dither on 60 s of digital silence: the mean log energy per bin [80]."""
    torch.manual_seed(0)
    return kaldi.fbank(torch.zeros(1, 60 * RATE), num_mel_bins=80, dither=1.0).mean(0)


def save_safetensors(path, tensors, metadata):
    header, blobs, offset = {"__metadata__": metadata}, [], 0
    for name, t in tensors.items():
        data = t.contiguous().numpy().astype("<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def main():
    tensors = {f"fbank.{i}": features(case) for i, case in enumerate(CASES)}
    tensors["dithered_silence_mean"] = dithered_silence_mean()
    save_safetensors(OUT, tensors, {"cases": json.dumps(CASES)})
    for name, t in tensors.items():
        print(name, tuple(t.shape), f"min {t.min():.3f} max {t.max():.3f}")
    print("wrote", OUT, os.path.getsize(OUT), "bytes")


if __name__ == "__main__":
    main()
