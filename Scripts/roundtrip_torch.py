#!/usr/bin/env python3
"""Round trip of model weights between Recur and PyTorch, both ways.

For LSTM, GRU and RNN, 2 layers, bidirectional (rnn) with a linear head on the top layer's
final states (head), on a batch x [T=9, B=4, 5]:

  Recur -> torch: `recur init` makes a model, `recur export --to pytorch` writes its weights,
                  torch loads them with safetensors.torch.load_file + load_state_dict(strict=True);
  torch -> Recur: torch initialises a model and saves state_dict() with save_file,
                  `recur import --config` turns it into a Recur model file.

Each way, `recur infer` and torch run the same batch, and the script prints the largest
absolute difference of output, h_n, c_n and logits. It fails unless all are <= 1e-5.

Usage: python3 Scripts/roundtrip_torch.py [--recur .build/release/recur]
Needs torch and safetensors (pip install 'torch==2.13.0+cpu' safetensors).
"""
import argparse
import json
import pathlib
import subprocess
import sys
import tempfile

import torch
from safetensors.torch import load_file, save_file

ROOT = pathlib.Path(__file__).resolve().parent.parent
T, B, I, H, LAYERS, OUT = 9, 4, 5, 8, 2, 3


class SequenceModel(torch.nn.Module):
    """Recur's SequenceModel in PyTorch: rnn, then head on concat(forward h_T, reverse h_0)."""

    def __init__(self, cell):
        super().__init__()
        kind = {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU, "rnn": torch.nn.RNN}[cell]
        self.rnn = kind(I, H, num_layers=LAYERS, bidirectional=True)
        self.head = torch.nn.Linear(2 * H, OUT)

    def forward(self, x):
        output, state = self.rnn(x)
        h_n, c_n = state if isinstance(state, tuple) else (state, None)
        logits = self.head(torch.cat([h_n[-2], h_n[-1]], dim=1))
        return {"output": output, "h_n": h_n, "c_n": c_n, "logits": logits}


def recur(binary, *args):
    subprocess.run([binary, *args], check=True, stdout=subprocess.DEVNULL)


def compare(torch_out, recur_file):
    got = load_file(recur_file)
    diffs = {}
    for name, value in torch_out.items():
        if value is None:
            continue
        diffs[name] = (got[name].double() - value.detach().double()).abs().max().item()
    return diffs


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--recur", default=str(ROOT / ".build/release/recur"))
    args = parser.parse_args()
    torch.manual_seed(0)
    x = torch.randn(T, B, I)
    rows, ok = [], True
    with tempfile.TemporaryDirectory() as tmp:
        d = pathlib.Path(tmp)
        save_file({"x": x}, d / "x.safetensors")
        for cell in ("lstm", "gru", "rnn"):
            config = {"task": "sequence", "cell": cell, "input_size": I, "hidden_size": H,
                      "layers": LAYERS, "bidirectional": True, "output_size": OUT}
            (d / "config.json").write_text(json.dumps(config))

            # Recur -> torch
            recur(args.recur, "init", "--config", str(d / "config.json"), "--seed", "7", "--out", str(d / "recur.safetensors"))
            recur(args.recur, "export", "--checkpoint", str(d / "recur.safetensors"), "--to", "pytorch", str(d / "for_torch.safetensors"))
            model = SequenceModel(cell)
            model.load_state_dict(load_file(d / "for_torch.safetensors"), strict=True)
            recur(args.recur, "infer", "--checkpoint", str(d / "recur.safetensors"), "--input", str(d / "x.safetensors"),
                  "--output", str(d / "y.safetensors"))
            with torch.no_grad():
                rows.append((cell, "Recur -> torch", compare(model(x), d / "y.safetensors")))

            # torch -> Recur
            torch.manual_seed(1)
            model = SequenceModel(cell)
            save_file({k: v.contiguous() for k, v in model.state_dict().items()}, d / "from_torch.safetensors")
            recur(args.recur, "import", "--weights", str(d / "from_torch.safetensors"), "--config", str(d / "config.json"),
                  "--out", str(d / "imported.safetensors"))
            recur(args.recur, "infer", "--checkpoint", str(d / "imported.safetensors"), "--input", str(d / "x.safetensors"),
                  "--output", str(d / "y.safetensors"))
            with torch.no_grad():
                rows.append((cell, "torch -> Recur", compare(model(x), d / "y.safetensors")))

    print(f"torch {torch.__version__}; {LAYERS} layers, bidirectional, T={T}, B={B}, input {I}, hidden {H}, head {OUT}")
    print("| cell | direction | output | h_n | c_n | logits | within 1e-5 |")
    print("|---|---|---|---|---|---|---|")
    for cell, direction, diffs in rows:
        good = all(v <= 1e-5 for v in diffs.values())
        ok &= good
        cells = [f"{diffs[k]:.2e}" if k in diffs else "-" for k in ("output", "h_n", "c_n", "logits")]
        print(f"| {cell.upper()} | {direction} | " + " | ".join(cells) + f" | {'yes' if good else 'NO'} |")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
