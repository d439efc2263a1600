#!/usr/bin/env python3
"""Fbank benchmark: asr::Fbank (build/bench/bench_fbank) beside torchaudio's Kaldi-compatible
fbank (torchaudio.compliance.kaldi.fbank(waveform * 32768, num_mel_bins=80, dither=0)) on the
same ~60 s of AN4 speech, both on one thread, in one run. Prints a table, the largest
difference between the two feature matrices (and of each to the float64 computation), and `ratio fbank_speed threads=1 <value>`
(our time / torchaudio's; below 1 is faster)."""
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import torch
import torchaudio
import torchaudio.compliance.kaldi as kaldi

from core import median_ms

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BINARY = os.path.join(ROOT, "build", "bench", "bench_fbank")
AN4 = os.environ.get("LATENTASR_AN4") or os.path.join(ROOT, "..", "shared", "data", "an4")
SECONDS = 60.0


def audio_files():
    """The first AN4 dev utterances (sorted) that add up to SECONDS."""
    files, total = [], 0.0
    for folder, _, names in sorted(os.walk(os.path.join(AN4, "dev"))):
        for name in sorted(n for n in names if n.endswith(".flac")):
            path = os.path.join(folder, name)
            info = torchaudio.info(path)
            files.append(path)
            total += info.num_frames / info.sample_rate
            if total >= SECONDS:
                return files, total
    sys.exit(f"only {total:.1f} s of audio under {AN4}/dev")


def ours(files, dump):
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
    out = subprocess.run([BINARY, "--dump", dump, *files], env=env, check=True,
                         capture_output=True, text=True).stdout
    return {r["row"]: r for r in map(json.loads, out.splitlines())}


def main():
    if not os.path.exists(BINARY):
        sys.exit(f"{BINARY} not found: build first (scripts/build.sh)")
    files, seconds = audio_files()
    torch.set_num_threads(1)
    wave = torch.cat([torchaudio.load(f)[0] for f in files], dim=1)  # [1, samples]
    ref = kaldi.fbank(wave * 32768, num_mel_bins=80, dither=0.0)
    ref_ms = median_ms(lambda: kaldi.fbank(wave * 32768, num_mel_bins=80, dither=0.0))
    ref_dither_ms = median_ms(lambda: kaldi.fbank(wave * 32768, num_mel_bins=80, dither=1.0))
    with tempfile.TemporaryDirectory() as tmp:
        dump = os.path.join(tmp, "fbank.npy")
        mine = ours(files, dump)
        feats = np.load(dump)
    if feats.shape != tuple(ref.shape):
        sys.exit(f"shapes differ: ours {feats.shape}, torchaudio {tuple(ref.shape)}")
    diff = float(np.abs(feats - ref.numpy()).max())
    # Both are float32: how far each lies from the same computation in float64.
    exact = kaldi.fbank(wave.double() * 32768, num_mel_bins=80, dither=0.0).numpy()
    ours_err, ref_err = float(np.abs(feats - exact).max()), float(np.abs(ref.numpy() - exact).max())
    frames = ref.shape[0]
    print(f"{len(files)} AN4 dev utterances, {seconds:.1f} s, {frames} frames x 80 bins, 1 thread")
    print(f"{'row':<14} {'ours ms':>9} {'torch ms':>9} {'ours frames/s':>14} {'torch frames/s':>15} {'ratio':>6}")
    for row, ref_row in (("fbank", ref_ms), ("fbank_dither", ref_dither_ms)):
        m = mine[row]["ms"]
        print(f"{row:<14} {m:>9.3f} {ref_row:>9.3f} {frames / m * 1e3:>14.0f} {frames / ref_row * 1e3:>15.0f} {m / ref_row:>6.3f}")
    print(f"largest difference to torchaudio: {diff:.3g}; to torchaudio in float64: "
          f"ours {ours_err:.3g}, torchaudio's float32 {ref_err:.3g}")
    print(f"ratio fbank_speed threads=1 {mine['fbank']['ms'] / ref_ms:.3f}")


if __name__ == "__main__":
    main()
