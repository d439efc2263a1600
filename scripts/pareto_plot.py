#!/usr/bin/python3
"""Plots WER (or CER) against measured cache bytes per frame with 95% confidence intervals.

  scripts/pareto_plot.py [--cer] OUT.png BEFORE.json [AFTER.json]

Each JSON file is what `asr-eval --compare ... --json` prints (its first row the baseline); a
row's bytes are its attention cache measured after 1000 frames of one stream / 1000, its error
bar the 95% CI of its WER difference to the baseline, placed around the baseline's WER plus the
difference. BEFORE: the models as converted; AFTER: the same fine-tuned alike (plotted hollow).
Also prints the Pareto front of each file: the rows that no other row beats on both bytes and WER.
--cer: the character error rate and its interval instead (for models whose WER is near 100 %).
"""
import json
import os
import subprocess
import sys


def points(path, metric):
    with open(path) as f:
        rows = json.load(f)
    base = rows[0][metric]
    out = []
    for r in rows:
        name = os.path.basename(r["experiment"].rstrip("/"))
        v = r.get("vs_first")
        if v and metric == "cer":
            if "cer" not in v:
                sys.exit(f"{path}: no CER interval (written by an asr-eval older than --compare's CER)")
            v = v["cer"]
        lo, hi = (v["ci_low"], v["ci_high"]) if v else (0.0, 0.0)
        out.append((name, r["kv_cache_bytes_1000_measured"] / 1000, 100 * r[metric],
                    100 * (base + lo), 100 * (base + hi)))
    return out


def front(pts):
    return [p for p in pts
            if not any(q[1] <= p[1] and q[2] < p[2] or q[1] < p[1] and q[2] <= p[2] for q in pts)]


def main():
    args = sys.argv[1:]
    metric = "wer"
    if args and args[0] == "--cer":
        metric, args = "cer", args[1:]
    if len(args) not in (2, 3):
        sys.exit(__doc__)
    png, files = args[0], args[1:]
    series = [points(f, metric) for f in files]
    data_files, plots = [], []
    for i, pts in enumerate(series):
        data = f"{png}.{i}.dat"
        with open(data, "w") as f:
            for name, x, y, lo, hi in pts:
                f.write(f"{x} {y} {lo} {hi} {name}\n")
        data_files.append(data)
        style = "pt 7" if i == 0 else "pt 6"
        title = "as converted" if i == 0 else "fine-tuned alike"
        plots.append(f"'{data}' using 1:2:3:4 with yerrorbars {style} lc {i + 1} title '{title}'")
        plots.append(f"'{data}' using 1:2:5 with labels offset 0.6,0.4 left font ',7' notitle")
        print(f"{files[i]}: Pareto front by {metric.upper()} " +
              ", ".join(f"{n} ({x:.0f} B, {y:.2f} %)" for n, x, y, _, _ in sorted(front(pts),
                                                                                key=lambda p: p[1])))
    script = f"""set terminal pngcairo size 1000,650 noenhanced
set output '{png}'
set logscale x 2
set xrange [{min(p[1] for pts in series for p in pts) / 1.6}:{max(p[1] for pts in series for p in pts) * 1.6}]
set xlabel 'attention cache bytes per frame (measured at 1000 frames, one stream)'
set ylabel 'streaming {metric.upper()} % (bars: 95% CI of the difference to the MHA row)'
set key top right
set grid
plot {", ".join(plots)}
"""
    subprocess.run(["gnuplot"], input=script, text=True, check=True)
    for d in data_files:
        os.remove(d)


if __name__ == "__main__":
    main()
