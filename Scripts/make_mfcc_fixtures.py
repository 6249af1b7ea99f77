#!/usr/bin/env python3
"""Writes librosa MFCC reference fixtures for Recur's tests.

Usage: pip install librosa && python3 Scripts/make_mfcc_fixtures.py
Output: Tests/RecurTests/Fixtures/librosa/*.safetensors (committed; librosa is not needed to test).

Each fixture holds a signal `y` (float32 values) and `mfcc` = librosa.feature.mfcc(y=y, sr=sr,
n_mfcc, n_fft, hop_length, n_mels) with librosa's other defaults, shape (n_mfcc, frames).
The signal is passed as float64, so librosa's STFT runs in double precision and the fixture is
its exact answer (its mel filterbank is float32, as always).
"""
import os

import librosa
import numpy as np

from fixturelib import save_safetensors

OUT = os.path.join(os.path.dirname(__file__), "..", "Tests", "RecurTests", "Fixtures", "librosa")


def main():
    os.makedirs(OUT, exist_ok=True)
    sr = 16000
    rng = np.random.default_rng(0)
    t = np.arange(16000) / sr
    signals = {
        "chirp": 0.5 * np.sin(2 * np.pi * (100 * t + (6000 - 100) / 2 * t ** 2)),
        "noise_burst": rng.standard_normal(16000) * np.exp(-((t - 0.5) / 0.1) ** 2) * 0.3,
        "tones_then_silence": np.where(t < 0.5, 0.3 * np.sin(2 * np.pi * 440 * t) + 0.2 * np.sin(2 * np.pi * 1320 * t), 0.0),
        "short_clip": 0.4 * np.sin(2 * np.pi * 250 * t[:7000]) * np.linspace(0, 1, 7000),
    }
    configs = {"default": dict(n_mfcc=20, n_fft=2048, hop_length=512, n_mels=128),
               "small": dict(n_mfcc=13, n_fft=512, hop_length=160, n_mels=40)}
    count = 0
    for name, y in signals.items():
        y32 = y.astype(np.float32)
        for cname, c in configs.items():
            if cname == "small" and name not in ("chirp", "noise_burst"):
                continue
            m = librosa.feature.mfcc(y=y32.astype(np.float64), sr=sr, **c)
            save_safetensors(os.path.join(OUT, f"{name}_{cname}.safetensors"), {"y": y32, "mfcc": m},
                 {"sr": sr, **c, "librosa": librosa.__version__})
            count += 1
    print(f"wrote {count} MFCC fixtures to {os.path.normpath(OUT)}")


if __name__ == "__main__":
    main()
