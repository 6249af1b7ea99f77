#!/usr/bin/env python3
"""Recur -> ONNX -> onnxruntime, checked against `recur infer` for every model kind.

For each case: `recur init` makes a model from a configuration, `recur export --to onnx`
writes it (with `--lengths` for the cases with per-sequence lengths, `--initial-state` for
those with a given initial state), `onnx.checker.check_model` checks the file, onnxruntime
runs it on random inputs, `recur infer` runs the model file on the same inputs, and every
output both give is compared. A case passes when the largest absolute difference is at
most 1e-5 (the outputs are of order 1). Models ONNX's ops cannot express must be refused
with an error. One line per case; the exit status is non-zero if any case fails.

Usage: python3 Scripts/roundtrip_onnx.py [--recur .build/release/recur]
Needs: pip install onnx onnxruntime numpy safetensors
"""
import argparse
import json
import pathlib
import subprocess
import sys
import tempfile

import numpy as np
import onnx
import onnxruntime
from safetensors.numpy import load_file, save_file

ROOT = pathlib.Path(__file__).resolve().parent.parent
T, B, I, H, V = 7, 5, 4, 6, 23


def seq(cell, **extra):
    return {"task": "sequence", "cell": cell, "input_size": I, "hidden_size": H, "output_size": 3, **extra}


# name, configuration, lengths?, initial state?
CASES = [
    ("rnn tanh", seq("rnn"), False, False),
    ("rnn-relu 2 layers", seq("rnn-relu", layers=2), False, False),
    ("lstm", seq("lstm"), False, False),
    ("lstm, lengths", seq("lstm"), True, False),
    ("lstm 2 layers bidirectional", seq("lstm", layers=2, bidirectional=True), False, False),
    ("lstm 2 layers bidirectional, lengths", seq("lstm", layers=2, bidirectional=True), True, False),
    ("lstm 3 layers, initial state", seq("lstm", layers=3), False, True),
    ("lstm relu activation (Keras)", seq("lstm", activation="relu"), False, False),
    ("lstm single bias", seq("lstm", bias="single"), False, False),
    ("lstm no bias", seq("lstm", bias="none"), False, False),
    ("peephole lstm 2 layers bidirectional, lengths", seq("lstm-peephole", layers=2, bidirectional=True), True, False),
    ("gru", seq("gru"), False, False),
    ("gru bidirectional, lengths, initial state", seq("gru", bidirectional=True), True, True),
    ("gru reset-before (Keras reset_after=False)", seq("gru", reset_after=False), False, False),
    ("gru reset-before 2 layers bidirectional, lengths", seq("gru", reset_after=False, layers=2, bidirectional=True), True, False),
    ("rnn bidirectional, lengths", seq("rnn", bidirectional=True), True, False),
    ("lm lstm 2 layers", {"task": "language-model", "cell": "lstm", "vocabulary_size": V, "embedding_size": H,
                          "hidden_size": H, "layers": 2}, False, False),
    ("lm lstm tied, initial state", {"task": "language-model", "cell": "lstm", "vocabulary_size": V, "embedding_size": H,
                                     "hidden_size": H, "layers": 2, "tied": True}, False, True),
    ("lm gru", {"task": "language-model", "cell": "gru", "vocabulary_size": V, "embedding_size": 5,
                "hidden_size": H, "layers": 1}, False, False),
] + [
    (f"sentiment {model} {convention}" + (", lengths" if lengths else ""),
     {"task": "sentiment", "model": model, "cell": model.rstrip("01"), "hidden_size": 100 if model.endswith("100") else 1,
      "vocabulary_size": V, "embedding_size": 8, "convention": convention}, lengths, False)
    for model, convention, lengths in [("rnn1", "keras1", False), ("lstm1", "keras1", True), ("gru1", "keras1", False),
                                       ("rnn100", "keras", False), ("lstm100", "keras1", True), ("gru100", "keras1", True),
                                       ("gru100", "pytorch", False), ("lstm100", "keras", False)]
]

REFUSED = [
    ("lstm with projection", seq("lstm", proj_size=3)),
    ("layer-norm lstm", seq("lstm-layernorm")),
    ("jordan network", {"task": "jordan", "input_size": I, "hidden_size": H, "output_size": 1}),
]


def run(binary, *args):
    return subprocess.run([binary, *args], capture_output=True, text=True)


def inputs_for(config, lengths, state, rng):
    """The ONNX feed and the same batch for `recur infer` (float32 tensors in safetensors)."""
    feed, infer = {}, {}
    if config["task"] == "sequence":
        x = rng.standard_normal((T, B, I)).astype(np.float32)
        feed["x"], infer["x"] = x, x
    else:
        ids = rng.integers(0, V, size=(T, B))
        feed["ids"], infer["ids"] = ids.astype(np.int64), ids.astype(np.float32)
    if lengths:
        n = rng.integers(1, T + 1, size=B)
        n[0] = T
        feed["lengths"], infer["lengths"] = n.astype(np.int32), n.astype(np.float32)
    if state:
        layers = config.get("layers", 1) * (2 if config.get("bidirectional") else 1)
        feed["h0"] = rng.standard_normal((layers, B, H)).astype(np.float32)
        if config["cell"].startswith("lstm"):
            feed["c0"] = rng.standard_normal((layers, B, H)).astype(np.float32)
    return feed, infer


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--recur", default=str(ROOT / ".build/release/recur"))
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    failures = 0
    print(f"onnx {onnx.__version__}, onnxruntime {onnxruntime.__version__}; T={T}, B={B}")
    with tempfile.TemporaryDirectory() as tmp:
        d = pathlib.Path(tmp)
        for name, config, lengths, state in CASES:
            (d / "config.json").write_text(json.dumps(config))
            steps = [("init", ["init", "--config", str(d / "config.json"), "--seed", "3", "--out", str(d / "m.safetensors")]),
                     ("export", ["export", "--checkpoint", str(d / "m.safetensors"), "--to", "onnx", str(d / "m.onnx")]
                      + (["--lengths"] if lengths else []) + (["--initial-state"] if state else []))]
            failed = next((f"{what}: {r.stderr.strip()}" for what, a in steps if (r := run(args.recur, *a)).returncode != 0), None)
            if failed:
                print(f"FAIL {name}: {failed}")
                failures += 1
                continue
            model = onnx.load(str(d / "m.onnx"))
            onnx.checker.check_model(model, full_check=True)
            session = onnxruntime.InferenceSession(str(d / "m.onnx"), providers=["CPUExecutionProvider"])
            feed, infer = inputs_for(config, lengths, state, rng)
            names = [o.name for o in session.get_outputs()]
            got = dict(zip(names, session.run(None, feed)))
            if state:
                # recur infer starts from zeros: compare the ONNX model with zero state too, and
                # check that the given state changes the result.
                zero = dict(feed, **{k: np.zeros_like(v) for k, v in feed.items() if k in ("h0", "c0")})
                with_state = got
                got = dict(zip(names, session.run(None, zero)))
                if np.abs(with_state[names[0]] - got[names[0]]).max() == 0:
                    print(f"FAIL {name}: the initial state does not change {names[0]}")
                    failures += 1
                    continue
            save_file(infer, str(d / "in.safetensors"))
            r = run(args.recur, "infer", "--checkpoint", str(d / "m.safetensors"), "--input", str(d / "in.safetensors"),
                    "--output", str(d / "out.safetensors"))
            if r.returncode != 0:
                print(f"FAIL {name}: infer: {r.stderr.strip()}")
                failures += 1
                continue
            want = load_file(str(d / "out.safetensors"))
            common = [k for k in names if k in want]
            diffs = {k: float(np.abs(got[k].astype(np.float64) - want[k].astype(np.float64)).max()) for k in common}
            if config["task"] == "sentiment" and config["model"].endswith("1"):
                # A 1-unit model's output is its final state.
                diffs["h_n"] = 0.0
            worst = max(diffs.values())
            ok = worst <= 1e-5 and len(common) > 0
            failures += not ok
            ops = sorted({n.op_type for n in model.graph.node})
            print(f"{'ok  ' if ok else 'FAIL'} {name}: max |onnxruntime - recur| {worst:.2e} over {', '.join(common)} "
                  f"(inputs {', '.join(feed)}; ops {' '.join(ops)})")
        for name, config in REFUSED:
            (d / "config.json").write_text(json.dumps(config))
            run(args.recur, "init", "--config", str(d / "config.json"), "--out", str(d / "m.safetensors"))
            r = run(args.recur, "export", "--checkpoint", str(d / "m.safetensors"), "--to", "onnx", str(d / "m.onnx"))
            ok = r.returncode != 0 and "Error" in r.stderr and "Fatal" not in r.stderr
            failures += not ok
            message = r.stderr.strip().splitlines()[0] if r.stderr.strip() else f"exit {r.returncode}"
            print(f"{'ok  ' if ok else 'FAIL'} {name} refused: {message}")
    print("all cases agree to 1e-5" if failures == 0 else f"{failures} case(s) failed")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
