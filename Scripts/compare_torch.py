#!/usr/bin/env python3
"""Recur against PyTorch on the canonical configurations, measured side by side in one run.

Usage: pip install 'torch==2.13.0+cpu' && swift build -c release && \
       python3 Scripts/compare_torch.py [--threads 1] [--seconds 2] [--configs P-LSTM,S-LSTM]

For every configuration it times one training step (forward + loss + backward + optimizer
step; "-infer": forward only) three ways, alternating: Recur (`recur bench --config X --json`),
PyTorch with nn.LSTM/GRU/RNN, and PyTorch in the hand-written-cell style of the seeds (a Python
loop of per-step matmuls). PyTorch uses torch.set_num_threads(--threads), Recur --threads.
ms/step is the median of five equal slices after warm-up, as in `recur bench`; with --rounds N
the three sides alternate N times per configuration and the table gives the medians of the
times and of each round's speed-up (PyTorch's own times move 10-30% between runs on a shared
machine). OpenBLAS's kernel family is the one
the machine's environment selects; the table names it.
"""
import argparse
import json
import math
import os
import subprocess
import sys
import time

import torch
import torch.nn as nn

RECUR = os.path.join(os.path.dirname(__file__), "..", ".build", "release", "recur")


class ManualStack(nn.Module):
    """Seed-style recurrent stack: explicit per-step cell equations in a Python loop."""

    def __init__(self, cell, input_size, hidden, layers, bidirectional):
        super().__init__()
        self.cell, self.hidden, self.layers = cell, hidden, layers
        self.dirs = 2 if bidirectional else 1
        gates = {"lstm": 4, "gru": 3, "rnn": 1}[cell]
        self.w_ih, self.w_hh, self.b = nn.ParameterList(), nn.ParameterList(), nn.ParameterList()
        for l in range(layers):
            n_in = input_size if l == 0 else hidden * self.dirs
            for _ in range(self.dirs):
                k = 1 / math.sqrt(hidden)
                self.w_ih.append(nn.Parameter(torch.empty(n_in, gates * hidden).uniform_(-k, k)))
                self.w_hh.append(nn.Parameter(torch.empty(hidden, gates * hidden).uniform_(-k, k)))
                self.b.append(nn.Parameter(torch.zeros(gates * hidden)))

    def step(self, i, x, h, c):
        H = self.hidden
        if self.cell == "lstm":
            g = x @ self.w_ih[i] + h @ self.w_hh[i] + self.b[i]
            ig, fg, gg, og = torch.sigmoid(g[:, :H]), torch.sigmoid(g[:, H:2 * H]), torch.tanh(g[:, 2 * H:3 * H]), torch.sigmoid(g[:, 3 * H:])
            c = fg * c + ig * gg
            return og * torch.tanh(c), c
        if self.cell == "gru":
            gx, gh = x @ self.w_ih[i] + self.b[i], h @ self.w_hh[i]
            r, z = torch.sigmoid(gx[:, :H] + gh[:, :H]), torch.sigmoid(gx[:, H:2 * H] + gh[:, H:2 * H])
            n = torch.tanh(gx[:, 2 * H:] + r * gh[:, 2 * H:])
            return (1 - z) * n + z * h, c
        return torch.tanh(x @ self.w_ih[i] + h @ self.w_hh[i] + self.b[i]), c

    def forward(self, x):  # x: [T, B, I] -> outputs [T, B, D*H], final states of the top layer
        T, B = x.shape[0], x.shape[1]
        seq = list(x.unbind(0))
        finals = []
        for l in range(self.layers):
            outs = []
            finals = []
            for d in range(self.dirs):
                i = l * self.dirs + d
                h = x.new_zeros(B, self.hidden)
                c = x.new_zeros(B, self.hidden)
                order = range(T) if d == 0 else range(T - 1, -1, -1)
                ys = [None] * T
                for t in order:
                    h, c = self.step(i, seq[t], h, c)
                    ys[t] = h
                outs.append(ys)
                finals.append(h)
            seq = [torch.cat([o[t] for o in outs], 1) for t in range(T)]
        return torch.stack(seq), torch.cat(finals, 1)


class Classifier(nn.Module):
    def __init__(self, cell, manual, input_size, hidden, layers, bidirectional, classes):
        super().__init__()
        self.manual = manual
        D = 2 if bidirectional else 1
        if manual:
            self.rnn = ManualStack(cell, input_size, hidden, layers, bidirectional)
        else:
            self.rnn = {"lstm": nn.LSTM, "gru": nn.GRU, "rnn": nn.RNN}[cell](input_size, hidden, layers, bidirectional=bidirectional)
        self.head = nn.Linear(D * hidden, classes)
        self.D, self.layers = D, layers

    def forward(self, x):
        if self.manual:
            _, final = self.rnn(x)
        else:
            _, h = self.rnn(x)
            h = h[0] if isinstance(h, tuple) else h
            final = torch.cat([h[(self.layers - 1) * self.D + d] for d in range(self.D)], 1)
        return self.head(final)


class LM(nn.Module):
    def __init__(self, cell, manual, size, dropout, vocab=10000, layers=2):
        super().__init__()
        self.emb = nn.Embedding(vocab, size)
        self.drop = nn.Dropout(dropout)
        self.manual = manual
        self.rnn = ManualStack(cell, size, size, layers, False) if manual else \
            {"lstm": nn.LSTM, "gru": nn.GRU}[cell](size, size, layers, dropout=dropout)
        self.head = nn.Linear(size, vocab)

    def forward(self, ids):
        x = self.drop(self.emb(ids))
        out = self.rnn(x)[0]
        return self.head(self.drop(out)).view(-1, self.head.out_features)


class Sentiment(nn.Module):
    def __init__(self, manual):
        super().__init__()
        self.emb, self.d1, self.d2 = nn.Embedding(2000, 32), nn.Dropout(0.2), nn.Dropout(0.2)
        self.manual = manual
        self.rnn = ManualStack("lstm", 32, 100, 1, False) if manual else nn.LSTM(32, 100)
        self.head = nn.Linear(100, 1)

    def forward(self, ids):
        x = self.d1(self.emb(ids))
        if self.manual:
            _, h = self.rnn(x)
        else:
            _, (h, _) = self.rnn(x)
            h = h[-1]
        return self.head(self.d2(h)).view(-1)


def torch_step(name, manual):
    """A closure running one step of config `name` in PyTorch."""
    torch.manual_seed(0)
    infer = name.endswith("-infer")
    base = name.replace("-infer", "")
    if base.startswith(("P-", "S-", "T-")):
        cell = base.split("-")[1].lower()
        kind = base[0]
        T, B, I, H, L, bi, C = {"P": (19, 128, 1, 128, 1, False, 10), "S": (32, 100, 20, 32, 3, True, 10), "T": (10, 32, 1, 10, 1, False, 1)}[kind]
        model = Classifier(cell, manual, I, H, L, bi, C)
        x = torch.randn(T, B, I)
        y = torch.randint(0, C, (B,)) if C > 1 else torch.randn(B, 1)
        loss_fn = nn.CrossEntropyLoss() if C > 1 else nn.MSELoss()
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
        clip = 1.0 if kind == "P" else 0
    elif base.startswith("L-"):
        cell = "gru" if "GRU" in base else "lstm"
        size, dropout = (650, 0.5) if "medium" in base else (200, 0.0)
        model = LM(cell, manual, size, dropout)
        x = torch.randint(0, 10000, (35, 20))
        y = torch.randint(0, 10000, (35 * 20,))
        loss_fn = nn.CrossEntropyLoss()
        opt = torch.optim.SGD(model.parameters(), lr=1.0)
        clip = 5.0
    else:  # I-LSTM
        model = Sentiment(manual)
        x = torch.randint(0, 2000, (500, 64))
        y = torch.randint(0, 2, (64,)).float()
        loss_fn = nn.BCEWithLogitsLoss()
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
        clip = 0
    if infer:
        model.eval()

        def step():
            with torch.no_grad():
                model(x)
        return step

    def step():
        opt.zero_grad()
        loss_fn(model(x), y).backward()
        if clip:
            nn.utils.clip_grad_norm_(model.parameters(), clip)
        opt.step()
    return step


def time_torch(step, seconds):
    for _ in range(3):
        step()
    t0 = time.perf_counter()
    step()
    est = max(time.perf_counter() - t0, 1e-6)
    per = max(2, int(seconds / 5 / est), 1)
    slices = []
    for _ in range(5):
        s = time.perf_counter()
        for _ in range(per):
            step()
        slices.append((time.perf_counter() - s) * 1000 / per)
    return sorted(slices)[2]


def time_recur(name, threads, seconds):
    out = subprocess.run([RECUR, "bench", "--config", name, "--threads", str(threads), "--seconds", str(seconds), "--json"],
                         capture_output=True, text=True, check=True)
    r = json.loads(out.stdout)
    return r["configs"][0]["ms_per_step"], r["sgemm_gflops"], r["configs"][0]["percent_of_sgemm_peak"], r.get("blas_core", "?")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--seconds", type=float, default=2)
    p.add_argument("--configs", default="P-LSTM,P-GRU,P-RNN,S-LSTM,S-GRU,S-RNN,L-small,L-medium,L-GRU-small,I-LSTM,T-LSTM,"
                                        "P-LSTM-infer,S-LSTM-infer,L-small-infer")
    p.add_argument("--no-manual", action="store_true", help="skip the hand-written-cell column")
    p.add_argument("--rounds", type=int, default=1, help="alternate the sides this many times; report medians")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    print(f"torch {torch.__version__}, {a.threads} thread(s); Recur: {os.path.normpath(RECUR)}", file=sys.stderr)
    rows = []
    median = lambda v: sorted(v)[len(v) // 2]
    for name in a.configs.split(","):
        recur, tor, man, pcts, peaks = [], [], [], [], []
        for _ in range(a.rounds):
            recur_ms, peak, pct, core = time_recur(name, a.threads, a.seconds)
            recur.append(recur_ms)
            pcts.append(pct)
            peaks.append(peak)
            tor.append(time_torch(torch_step(name, False), a.seconds))
            if not a.no_manual:
                man.append(time_torch(torch_step(name, True), a.seconds))
        recur_ms, torch_ms, pct, peak = median(recur), median(tor), median(pcts), median(peaks)
        manual_ms = median(man) if man else None
        # Speed-ups: the median of each round's ratio (the sides of a round run seconds apart,
        # so a slower spell of the shared machine touches both).
        speedup = median([t / r for t, r in zip(tor, recur)])
        manual_speedup = median([m / r for m, r in zip(man, recur)]) if man else None
        rows.append((name, recur_ms, torch_ms, manual_ms, pct, speedup, manual_speedup))
        print(f"{name}: recur {[round(v, 2) for v in recur]} ms, torch {[round(v, 2) for v in tor]} ms, "
              f"hand-written {[round(v, 2) for v in man]} ms", file=sys.stderr)
    print(f"\nSGEMM peak (Recur's BLAS, OpenBLAS core {core}, 1024^3): {peak:.1f} GFLOP/s at {a.threads} thread(s) (median of the runs); "
          f"{a.rounds} round(s), medians; torch {torch.__version__} ({torch.backends.cpu.get_cpu_capability()})\n")
    print("| config | Recur ms/step | PyTorch ms/step | speed-up | PyTorch hand-written cells ms/step | speed-up | Recur % of SGEMM peak |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, r, t, m, pct, speedup, manual_speedup in rows:
        ms = "-" if m is None else f"{m:.2f}"
        sm = "-" if m is None else f"{manual_speedup:.1f}x"
        print(f"| {name} | {r:.2f} | {t:.2f} | {speedup:.2f}x | {ms} | {sm} | {pct:.0f}% |")


if __name__ == "__main__":
    main()
