"""Shared by the fixture scripts: a minimal safetensors writer (F32 only)."""
import json
import struct

import numpy as np


def save_safetensors(path, tensors, metadata):
    """8-byte little-endian header size, JSON header padded to 8 bytes, then the data."""
    header, blobs, offset = {}, [], 0
    for name, value in tensors.items():
        raw = np.ascontiguousarray(np.asarray(value, dtype=np.float32)).tobytes()
        header[name] = {"dtype": "F32", "shape": list(np.shape(value)), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    header["__metadata__"] = {k: str(v) for k, v in metadata.items()}
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)
