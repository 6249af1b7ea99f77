#!/usr/bin/env python3
"""Forecasts two real series that statsmodels ships with `recur forecast` and prints the tables
of docs/forecasting.md: every network x epochs x target transform (test MSE beside the naive
forecast's) and the setting `--search` picks on the validation span.

    pip install statsmodels
    python3 Scripts/forecast_real_series.py [--recur .build/release/recur] [--out /tmp/series] [--seeds 1,2,3]

elnino: monthly sea surface temperatures 1950-2010, its month columns flattened in order
(seasonal, period 12). macrodata: US quarterly real GDP 1959-2009 (trending), with real
consumption and investment as optional feature columns.
"""
import argparse, json, os, subprocess

import statsmodels.api as sm


def write_csvs(folder):
    os.makedirs(folder, exist_ok=True)
    e = sm.datasets.elnino.load_pandas().data
    months = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
    with open(os.path.join(folder, "elnino.csv"), "w") as f:
        f.write("month,temperature\n")
        for _, r in e.iterrows():
            for i, m in enumerate(months):
                f.write(f"{int(r['YEAR'])}-{i + 1:02d},{r[m]}\n")
    m = sm.datasets.macrodata.load_pandas().data
    with open(os.path.join(folder, "macrodata.csv"), "w") as f:
        f.write("quarter,realgdp,realcons,realinv\n")
        for _, r in m.iterrows():
            f.write(f"{int(r['year'])}Q{int(r['quarter'])},{r['realgdp']},{r['realcons']},{r['realinv']}\n")


def recur(binary, args):
    out = subprocess.run([binary, "forecast", "--json", "--quiet"] + args, capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--recur", default=".build/release/recur")
    p.add_argument("--out", default="/tmp/recur-series")
    p.add_argument("--seeds", default="1,2,3")
    a = p.parse_args()
    write_csvs(a.out)
    seeds = [int(s) for s in a.seeds.split(",")]
    series = [
        ("elnino", ["--csv", f"{a.out}/elnino.csv", "--column", "temperature", "--date-column", "month"], 12, []),
        ("realgdp", ["--csv", f"{a.out}/macrodata.csv", "--column", "realgdp", "--date-column", "quarter"], None, []),
        ("realgdp + realcons, realinv", ["--csv", f"{a.out}/macrodata.csv", "--columns", "realgdp,realcons,realinv",
                                         "--target", "realgdp", "--date-column", "quarter"], None, ["--difference-features"]),
    ]
    for name, data, period, extra in series:
        transforms = [["--no-difference"], ["--difference"]] + ([["--no-difference", "--seasonal", str(period)], ["--difference", "--seasonal", str(period)]] if period else [])
        window = ["--window", str(max(10, (period or 0) + 1))]
        print(f"\n### {name}, seed {seeds[0]}: test MSE (MSE / naive)\n")
        print("| network | epochs | " + " | ".join(" ".join(t + extra) for t in transforms) + " |")
        print("|---|---:|" + "---:|" * len(transforms))
        naive = None
        for cell in ["rnn", "lstm", "gru"]:
            for epochs in [10, 50]:
                cells = []
                for t in transforms:
                    r = recur(a.recur, data + window + ["--cell", cell, "--epochs", str(epochs), "--seed", str(seeds[0])] + t + extra)
                    naive = r["baseline_mse"]
                    cells.append(f"{r['test_mse']:.4g} ({r['test_mse'] / r['baseline_mse']:.3f})")
                print(f"| {cell} | {epochs} | " + " | ".join(cells) + " |")
        print(f"\nNaive (last value) test MSE: {naive:.4g}.\n")
        print(f"`--search --search-epochs 10,50`{' --seasonal ' + str(period) if period else ''}: the pick on the validation span\n")
        print("| seed | pick | valid MSE / naive | test MSE | naive | test MSE / naive |")
        print("|---:|---|---:|---:|---:|---:|")
        for seed in seeds:
            s = recur(a.recur, data + window + ["--search", "--search-epochs", "10,50", "--seed", str(seed)] + (["--seasonal", str(period)] if period else []))
            r, c = s["result"], s["candidates"][s["picked"]]
            print(f"| {seed} | {r['config']['cell']} {c['label'].split(' ', 1)[1] if ' ' in c['label'] else ''} {r['config']['epochs']} epochs | "
                  f"{c['valid_mse'] / c['valid_baseline_mse']:.3f} | {r['test_mse']:.4g} | {r['baseline_mse']:.4g} | {r['test_mse'] / r['baseline_mse']:.3f} |")


if __name__ == "__main__":
    main()
