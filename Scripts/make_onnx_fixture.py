#!/usr/bin/env python3
"""The ONNX fixture of the Swift tests: one small model run by onnxruntime.

`recur init` makes a 2-layer bidirectional LSTM sequence classifier (input 3, hidden 4,
3 classes, seed 11); `recur export --to onnx --lengths` writes it; onnxruntime runs the
.onnx file on a fixed batch x [T=6, B=3, 3] with lengths [6, 4, 1]. Committed to
Tests/RecurTests/Fixtures/onnx/: the model file, the .onnx file (the test checks that
today's exporter writes the same bytes) and onnxruntime's outputs with the inputs
(the test checks that Recur's forward gives them to 1e-5).

Usage: python3 Scripts/make_onnx_fixture.py [--recur .build/release/recur]
Needs: pip install onnx onnxruntime numpy safetensors
"""
import argparse
import json
import pathlib
import subprocess
import tempfile

import numpy as np
import onnxruntime
from safetensors.numpy import save_file

ROOT = pathlib.Path(__file__).resolve().parent.parent
OUT = ROOT / "Tests/RecurTests/Fixtures/onnx"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--recur", default=str(ROOT / ".build/release/recur"))
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    config = {"task": "sequence", "cell": "lstm", "input_size": 3, "hidden_size": 4, "layers": 2,
              "bidirectional": True, "output_size": 3}
    with tempfile.TemporaryDirectory() as tmp:
        (pathlib.Path(tmp) / "config.json").write_text(json.dumps(config))
        subprocess.run([args.recur, "init", "--config", f"{tmp}/config.json", "--seed", "11",
                        "--out", str(OUT / "lstm_bidirectional.safetensors")], check=True, stdout=subprocess.DEVNULL)
    subprocess.run([args.recur, "export", "--checkpoint", str(OUT / "lstm_bidirectional.safetensors"), "--to", "onnx",
                    "--lengths", str(OUT / "lstm_bidirectional.onnx")], check=True, stdout=subprocess.DEVNULL)
    rng = np.random.default_rng(5)
    x = rng.standard_normal((6, 3, 3)).astype(np.float32)
    lengths = np.array([6, 4, 1], dtype=np.int32)
    session = onnxruntime.InferenceSession(str(OUT / "lstm_bidirectional.onnx"), providers=["CPUExecutionProvider"])
    names = [o.name for o in session.get_outputs()]
    outputs = dict(zip(names, session.run(None, {"x": x, "lengths": lengths})))
    save_file({"x": x, "lengths": lengths.astype(np.float32), **outputs}, str(OUT / "lstm_bidirectional_onnxruntime.safetensors"),
              metadata={"onnxruntime": onnxruntime.__version__})
    print(f"wrote {OUT}: outputs {', '.join(f'{k} {v.shape}' for k, v in outputs.items())} (onnxruntime {onnxruntime.__version__})")


if __name__ == "__main__":
    main()
