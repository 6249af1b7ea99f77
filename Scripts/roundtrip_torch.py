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

Then model.py: for every model kind (sequence models of every cell, with and without
lengths, language models, sentiment models), `recur export --to pytorch` writes the weights
and model.py; the script imports it, runs `model.load()` on a batch and compares with
`recur infer` (again <= 1e-5).

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
    ok &= check_model_py(args.recur)
    sys.exit(0 if ok else 1)


def seq(cell, **extra):
    return {"task": "sequence", "cell": cell, "input_size": I, "hidden_size": H, "output_size": OUT, **extra}


V = 17
MODEL_PY_CASES = [
    (seq("rnn"), True),
    (seq("rnn-relu", layers=2, bidirectional=True), True),
    (seq("lstm", layers=2, bidirectional=True), True),
    (seq("lstm", proj_size=3), False),
    (seq("gru", bias="none"), True),
    (seq("gru", reset_after=False, layers=2, bidirectional=True), True),
    (seq("lstm", activation="relu", bias="single"), True),
    (seq("lstm-peephole", layers=2, bidirectional=True), True),
    (seq("lstm-layernorm", bidirectional=True), True),
    ({"task": "language-model", "cell": "lstm", "vocabulary_size": V, "embedding_size": H, "hidden_size": H, "layers": 2, "tied": True}, False),
    ({"task": "language-model", "cell": "gru", "vocabulary_size": V, "embedding_size": 5, "hidden_size": H, "layers": 1}, False),
] + [({"task": "sentiment", "model": kind, "cell": kind.rstrip("01"), "hidden_size": 100 if kind.endswith("100") else 1,
       "vocabulary_size": V, "embedding_size": 8, "convention": convention}, True)
     for kind, convention in [("rnn1", "keras1"), ("lstm1", "keras1"), ("gru1", "keras1"), ("gru100", "keras1"), ("lstm100", "pytorch")]]


def check_model_py(binary):
    """model.py against recur infer for every model kind; prints one line per case."""
    import importlib.util
    import numpy as np
    ok = True
    print("\nmodel.py (recur export --to pytorch) against recur infer:")
    with tempfile.TemporaryDirectory() as tmp:
        for n, (config, with_lengths) in enumerate(MODEL_PY_CASES):
            d = pathlib.Path(tmp) / f"case{n}"
            d.mkdir()
            (d / "config.json").write_text(json.dumps(config))
            recur(binary, "init", "--config", str(d / "config.json"), "--seed", "5", "--out", str(d / "recur.safetensors"))
            recur(binary, "export", "--checkpoint", str(d / "recur.safetensors"), "--to", "pytorch", str(d / "weights.safetensors"))
            spec = importlib.util.spec_from_file_location(f"model{n}", d / "model.py")
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            net = module.load()
            rng = np.random.default_rng(n)
            inputs = {}
            if config["task"] == "sequence":
                inputs["x"] = torch.from_numpy(rng.standard_normal((T, B, I)).astype(np.float32))
            else:
                inputs["ids"] = torch.from_numpy(rng.integers(0, V, size=(T, B)).astype(np.float32))
            lengths = None
            if with_lengths:
                lengths = torch.from_numpy(rng.integers(1, T + 1, size=B))
                lengths[0] = T
                inputs["lengths"] = lengths.float()
            save_file(inputs, d / "in.safetensors")
            recur(binary, "infer", "--checkpoint", str(d / "recur.safetensors"), "--input", str(d / "in.safetensors"),
                  "--output", str(d / "out.safetensors"))
            want = load_file(d / "out.safetensors")
            with torch.no_grad():
                if config["task"] == "sequence":
                    logits, output, h_n, c_n = net(inputs["x"], lengths)
                    got = {"logits": logits, "output": output, "h_n": h_n, "c_n": c_n}
                elif config["task"] == "language-model":
                    got = {"logits": net(inputs["ids"])[0]}
                else:
                    got = {"output": net(inputs["ids"], lengths)[0]}
            diffs = {k: (v.double() - want[k].double()).abs().max().item() for k, v in got.items() if v is not None}
            good = max(diffs.values()) <= 1e-5
            ok &= good
            kind = "stock nn module" if module.MODULE["stock"] else "step-by-step module"
            name = config.get("model", config["cell"]) + (", lengths" if with_lengths else "")
            print(f"{'ok  ' if good else 'FAIL'} {config['task']} {name} ({kind}): max |model.py - recur| {max(diffs.values()):.2e} over {', '.join(diffs)}")
    return ok


if __name__ == "__main__":
    main()
