#!/usr/bin/env python3
"""Writes the small seed corpora in Fuzz/corpus/<target>: valid files for each reader that
FuzzLoaders.swift fuzzes. Model files and language-model checkpoints are written by the
built `recur` (`recur init`, `recur lm --save`) when it is there. Python stdlib only."""
import json
import pathlib
import struct

out = pathlib.Path(__file__).resolve().parent / "corpus"
out.mkdir(exist_ok=True)


def safetensors(tensors, metadata=None):
    header, blob = {}, b""
    for name, (shape, values) in tensors.items():
        data = struct.pack(f"<{len(values)}f", *values)
        header[name] = {"dtype": "F32", "shape": shape, "data_offsets": [len(blob), len(blob) + len(data)]}
        blob += data
    if metadata:
        header["__metadata__"] = metadata
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + blob


def wav(format_code, channels, rate, bits, frames, extensible=False, extra_chunk=False):
    block = channels * bits // 8
    if bits == 8:
        data = bytes((128 + i * 7) % 256 for i in range(frames * channels))
    elif format_code == 3:
        fmt = "f" if bits == 32 else "d"
        data = struct.pack(f"<{frames * channels}{fmt}", *[((i % 17) - 8) / 8 for i in range(frames * channels)])
    else:
        data = b"".join(((i * 997) % (1 << bits) - (1 << (bits - 1))).to_bytes(bits // 8, "little", signed=True)
                        for i in range(frames * channels))
    if extensible:
        fmt_chunk = struct.pack("<HHIIHHHHIH14s", 0xFFFE, channels, rate, rate * block, block, bits, 22, bits, 0,
                                format_code, b"\x00\x00\x00\x00\x10\x00\x80\x00\x00\xaa\x00\x38\x9b\x71")
    else:
        fmt_chunk = struct.pack("<HHIIHH", format_code, channels, rate, rate * block, block, bits)
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt_chunk)) + fmt_chunk
    if extra_chunk:
        body += b"LIST" + struct.pack("<I", 5) + b"INFOx" + b"\x00"
    body += b"data" + struct.pack("<I", len(data)) + data
    return b"RIFF" + struct.pack("<I", len(body)) + body


seq = {"task": "sequence", "cell": "lstm", "input_size": 2, "hidden_size": 2, "output_size": 1}
files = {
    "safetensors/lstm": safetensors({"rnn.weight_ih_l0": ([8, 2], [0.1 * i for i in range(16)]),
                                     "rnn.bias_ih_l0": ([8], [1.0] * 8), "head.weight": ([1, 2], [0.5, -0.5])},
                                    {"model": json.dumps(seq)}),
    "safetensors/empty": safetensors({}),
    "safetensors/scalar": safetensors({"s": ([], [3.0]), "z": ([0, 4], [])}),
    "wav/pcm16": wav(1, 1, 8000, 16, 40),
    "wav/pcm8-stereo": wav(1, 2, 16000, 8, 30, extra_chunk=True),
    "wav/float32": wav(3, 1, 22050, 32, 20),
    "wav/float64": wav(3, 1, 8000, 64, 10),
    "wav/ext24": wav(1, 2, 16000, 24, 16, extensible=True),
    "config/sequence": json.dumps(seq).encode(),
    "config/bidir-gru": json.dumps({"task": "sequence", "cell": "gru", "input_size": 3, "hidden_size": 4, "layers": 2,
                                    "bidirectional": True, "output_size": 2, "merge": "sum", "reset_after": False}).encode(),
    "config/lm": json.dumps({"task": "language-model", "cell": "lstm", "vocabulary_size": 10, "embedding_size": 4,
                             "hidden_size": 4, "layers": 1, "tied": True}).encode(),
    "config/sentiment": json.dumps({"task": "sentiment", "model": "gru1", "cell": "gru", "vocabulary_size": 20,
                                    "embedding_size": 8, "hidden_size": 1, "convention": "keras1", "bias": "single"}).encode(),
    "config/jordan": json.dumps({"task": "jordan", "input_size": 1, "hidden_size": 3, "output_size": 1, "activation": "relu"}).encode(),
    "csv/dates": b"date,value,note\n2024-01,1.5,a\n2024-02,,\"b, c\"\n2024-03,NA,d\n2024-04,2e3,e\n",
    "csv/crlf": b"\xef\xbb\xbft;v\r\n1;2\r\n3;4\r\n",
    "tsv/reviews": b"1\tA great film<br />loved it\n0\tdull, dull.\npos\tfine\nneg\tbad\r\n",
    "text/ptb": b" the cat sat on the <unk> .\n a dog ran N miles \n\n",
}
for name, data in files.items():
    path = out / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)

# Model files and language-model checkpoints, from the built command line.
import os, subprocess, tempfile
recur = pathlib.Path(__file__).resolve().parent.parent / ".build" / "release" / "recur"
if recur.exists():
    with tempfile.TemporaryDirectory() as tmp:
        for name, cfg in [("sequence", seq), ("jordan", json.loads(files["config/jordan"])),
                          ("lm", json.loads(files["config/lm"])), ("sentiment", json.loads(files["config/sentiment"]))]:
            c = os.path.join(tmp, name + ".json")
            pathlib.Path(c).write_text(json.dumps(cfg))
            (out / "modelfile").mkdir(exist_ok=True)
            subprocess.run([str(recur), "init", "--config", c, "--out", str(out / "modelfile" / name)], check=True, capture_output=True)
        text = os.path.join(tmp, "t.txt")
        pathlib.Path(text).write_text("a b c a b . c a\n" * 20)
        (out / "lmcheckpoint").mkdir(exist_ok=True)
        subprocess.run([str(recur), "lm", "--train", text, "--valid", text, "--test", text, "--epochs", "1", "--hidden", "3",
                        "--layers", "1", "--bptt", "4", "--batch-size", "2", "--quiet", "--save", str(out / "lmcheckpoint" / "tiny")],
                       check=True, capture_output=True)
        for extra in (out / "lmcheckpoint").glob("*.best.safetensors"):
            extra.unlink()
print(f"wrote {len(files)} files and the command line's model files to {out}")
