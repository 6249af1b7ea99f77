#!/usr/bin/env python3
"""Writes the small seed corpus in Fuzz/corpus: valid safetensors and WAV files, each with
the selector byte FuzzLoaders.swift reads first (0 safetensors, 1 WAV). Python stdlib only."""
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


files = {
    "st-lstm": safetensors({"rnn.weight_ih_l0": ([8, 2], [0.1 * i for i in range(16)]),
                            "rnn.bias_ih_l0": ([8], [1.0] * 8), "head.weight": ([1, 2], [0.5, -0.5])},
                           {"model": json.dumps({"task": "sequence", "cell": "lstm", "input_size": 2,
                                                 "hidden_size": 2, "output_size": 1})}),
    "st-empty": safetensors({}),
    "st-scalar": safetensors({"s": ([], [3.0]), "z": ([0, 4], [])}),
    "wav-pcm16": wav(1, 1, 8000, 16, 40),
    "wav-pcm8-stereo": wav(1, 2, 16000, 8, 30, extra_chunk=True),
    "wav-float32": wav(3, 1, 22050, 32, 20),
    "wav-float64": wav(3, 1, 8000, 64, 10),
    "wav-ext24": wav(1, 2, 16000, 24, 16, extensible=True),
}
for name, data in files.items():
    selector = b"\x00" if name.startswith("st-") else b"\x01"
    (out / name).write_bytes(selector + data)
print(f"wrote {len(files)} files to {out}")
