#!/usr/bin/env python3
"""Tabulates and plots the latent-dim ablation of scripts/ablate_latent.sh.

ablation_table.py OUT ROW... reads, per row, OUT/ROW.eval.json (WER before fine-tuning),
OUT/ROW.stream.json (streaming WER, cache and RTF), OUT/ROW.ft.eval.json and, where present,
OUT/ROW.ft.stream.json (WER after fine-tuning, offline and streaming) and, for
converted rows, OUT/ROW.report.json (asr-convert's quality report); writes OUT/table.md,
OUT/ablation.json and OUT/ablation.png (gnuplot).
"""
import json
import os
import subprocess
import sys


def load(path):
    with open(path) as f:
        return json.load(f)


def row(out, name):
    ev = load(f"{out}/{name}.eval.json")
    st = load(f"{out}/{name}.stream.json")["streaming"]
    ft = load(f"{out}/{name}.ft.eval.json")
    ft_stream_path = f"{out}/{name}.ft.stream.json"
    ft_stream = load(ft_stream_path) if os.path.exists(ft_stream_path) else None
    rep_path = f"{out}/{name}.report.json"
    rep = load(rep_path) if os.path.exists(rep_path) else None
    return {
        "name": name,
        "attention": ev.get("attention", "?"),
        "kv_floats_per_frame": ev["kv_cache_bytes_per_frame"] // 4,
        "cache_mb_1000": st["cache_bytes_measured_1000"] / 1e6,
        "cache_mb_1000_formula": st["cache_bytes_formula_1000"] / 1e6,
        "logits_relative_error": rep["logits_relative_error"] if rep else 0.0,
        "wer_no_ft": ev["wer"],
        "wer_ft": ft["wer"],
        "stream_wer_no_ft": load(f"{out}/{name}.stream.json")["wer"],
        "stream_wer_ft": ft_stream["wer"] if ft_stream else None,
        "stream_chunk": st["chunk"],
        "stream_exact": st["exact"],
        "stream_rtf": st["rtf"],
    }


def percent(x):
    return "-" if x is None else f"{100 * x:.2f}%"


def table(rows):
    mha = rows[0]
    stream = f"streaming (chunk {mha['stream_chunk']}{'' if mha['stream_exact'] else ', inexact'})"
    lines = [
        "| model | KV floats/frame | cache MB @1000 frames (measured) | cache vs MHA | "
        "rel. logits error | dev WER no FT | dev WER after FT | "
        f"{stream} WER no FT | {stream} WER after FT | streaming RTF | RTF vs MHA |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['name']} | {r['kv_floats_per_frame']} | {r['cache_mb_1000']:.3f} | "
            f"{r['cache_mb_1000'] / mha['cache_mb_1000']:.3f} | {r['logits_relative_error']:.4f} | "
            f"{percent(r['wer_no_ft'])} | {percent(r['wer_ft'])} | "
            f"{percent(r['stream_wer_no_ft'])} | {percent(r['stream_wer_ft'])} | {r['stream_rtf']:.4f} | "
            f"{r['stream_rtf'] / mha['stream_rtf']:.2f} |")
    return "\n".join(lines) + "\n"


def plot(out, rows):
    """WER against the measured cache: MLA rows as one curve, GQA rows as another, MHA as lines."""
    data = f"{out}/ablation.dat"
    with open(data, "w") as f:
        for family in ("mla", "gqa"):
            for r in rows[1:]:
                if r["attention"] == family:
                    f.write(f"{r['cache_mb_1000']} {100 * r['wer_no_ft']} {100 * r['wer_ft']} {r['name']}\n")
            f.write("\n\n")
    mha = rows[0]
    script = f"""
set terminal pngcairo noenhanced size 900,560
set output '{out}/ablation.png'
set title 'MHA -> MLA / GQA conversion on AN4 dev'
set xlabel 'streaming KV cache at 1000 frames (MB, measured; MHA: {mha['cache_mb_1000']:.3f})'
set ylabel 'dev WER (%)'
set key outside right
set grid
plot '{data}' index 0 using 1:2 with linespoints pt 7 lc 1 title 'MLA, no fine-tuning', \\
     '{data}' index 0 using 1:3 with linespoints pt 5 lc 2 title 'MLA fine-tuned', \\
     '{data}' index 0 using 1:3:4 with labels offset 0,-1 notitle, \\
     '{data}' index 1 using 1:2 with points pt 9 ps 1.5 lc 3 title 'GQA, no fine-tuning', \\
     '{data}' index 1 using 1:3 with points pt 11 ps 1.5 lc 4 title 'GQA fine-tuned', \\
     '{data}' index 1 using 1:2:4 with labels offset 0,1 notitle, \\
     {100 * mha['wer_no_ft']} with lines dt 2 lc 7 title 'MHA', \\
     {100 * mha['wer_ft']} with lines dt 3 lc 6 title 'MHA fine-tuned (same steps)'
"""
    subprocess.run(["gnuplot"], input=script, text=True, check=True)


def main():
    out, names = sys.argv[1], sys.argv[2:]
    rows = [row(out, n) for n in names]
    with open(f"{out}/table.md", "w") as f:
        f.write(table(rows))
    with open(f"{out}/ablation.json", "w") as f:
        json.dump(rows, f, indent=1)
    plot(out, rows)


if __name__ == "__main__":
    main()
