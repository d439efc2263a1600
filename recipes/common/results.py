#!/usr/bin/env python3
"""RESULTS.md of a recipe's experiment folder, from the eval.json files asr-eval wrote.

    results.py --exp EXP --title TITLE [--models "mha mla ..."]

EXP/<model>/decode_<test set>/eval.json is one evaluation (a model is a trained attention type,
or a converted / fine-tuned one). Prints, in ESPnet's style, one WER table per model
(|dataset|Snt|Wrd|Corr|Sub|Del|Ins|Err|, percentages of the reference words), then one table
comparing the models: parameters, KV-cache bytes per encoder frame, the cache measured after
1000 frames, WER and CER on every test set, real-time factor.
"""
import argparse
import datetime
import json
import os
import platform
import subprocess
import sys


def load_evals(exp):
    """{model: {test: eval.json}} for every EXP/<model>/decode_<test>/eval.json."""
    out = {}
    for model in sorted(os.listdir(exp)):
        mdir = os.path.join(exp, model)
        if not os.path.isdir(mdir):
            continue
        for d in sorted(os.listdir(mdir)):
            path = os.path.join(mdir, d, "eval.json")
            if d.startswith("decode_") and os.path.isfile(path):
                with open(path) as f:
                    out.setdefault(model, {})[d[len("decode_"):]] = json.load(f)
    return out


def espnet_row(test, j):
    wrd = j["ref_words"]
    sub, dele, ins = j["sub"], j["del"], j["ins"]
    pct = (lambda n: 100.0 * n / wrd) if wrd else (lambda n: 0.0)
    return "|%s|%d|%d|%.1f|%.1f|%.1f|%.1f|%.1f|" % (
        test, j["utterances"], wrd, pct(wrd - sub - dele), pct(sub), pct(dele), pct(ins),
        100.0 * j["wer"])


def environment():
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                                text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        commit = "unknown"
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return ("- date: `%s`\n- machine: %s, %d cores\n- latentasr commit: `%s`\n" %
            (datetime.datetime.now().strftime("%Y-%m-%d %H:%M"), cpu, os.cpu_count(), commit))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--exp", required=True)
    ap.add_argument("--title", required=True)
    ap.add_argument("--models", default="", help="table order (others follow, sorted)")
    a = ap.parse_args()
    evals = load_evals(a.exp)
    if not evals:
        sys.exit("results.py: no EXP/<model>/decode_<test>/eval.json under %s" % a.exp)
    order = [m for m in a.models.split() if m in evals]
    order += [m for m in sorted(evals) if m not in order]
    tests = []
    for m in order:
        tests += [t for t in evals[m] if t not in tests]

    out = ["# RESULTS: %s" % a.title, "", "## Environment", environment()]
    for m in order:
        first = next(iter(evals[m].values()))
        out += ["## %s" % m, "", "- checkpoint: `%s`" % first["checkpoint"],
                "- attention: %s, encoder: %s, params: %.2fM, beam %d" %
                (first["attention"], first["encoder"], first["params"] / 1e6, first["beam"]),
                "", "### WER", "", "|dataset|Snt|Wrd|Corr|Sub|Del|Ins|Err|",
                "|---|---|---|---|---|---|---|---|"]
        out += [espnet_row(t, evals[m][t]) for t in tests if t in evals[m]]
        out.append("")

    out += ["## Attention and cache", "",
            "KV bytes/frame: the streaming cache per encoder frame, all layers (float32); "
            "measured: the cache a stream holds after 1000 frames. WER / CER in %.", "",
            "|model|attention|params (M)|KV bytes/frame|KV MB @1000 (measured)|" +
            "|".join("%s WER|%s CER" % (t, t) for t in tests) + "|RTF|",
            "|" + "---|" * (5 + 2 * len(tests) + 1)]
    for m in order:
        e = evals[m]
        first = next(iter(e.values()))
        cells = []
        for t in tests:
            cells += (["%.2f" % (100 * e[t]["wer"]), "%.2f" % (100 * e[t]["cer"])]
                      if t in e else ["-", "-"])
        out.append("|%s|%s|%.2f|%d|%.3f|%s|%.3f|" % (
            m, first["attention"], first["params"] / 1e6, first["kv_cache_bytes_per_frame"],
            first.get("kv_cache_bytes_1000_measured", 0) / 1e6, "|".join(cells),
            max(e[t]["rtf"] for t in e)))
    out.append("")
    print("\n".join(out))


if __name__ == "__main__":
    main()
