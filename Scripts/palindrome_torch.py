#!/usr/bin/env python3
"""Seed 001's palindrome task in PyTorch, for side-by-side runs with `recur palindrome`.

Usage: pip install 'torch==2.13.0+cpu' numpy
  python3 Scripts/palindrome_torch.py --length 50 --seed 42                # train, print the curve
  python3 Scripts/palindrome_torch.py --length 50 --steps 1000 --trace T.safetensors
  python3 Scripts/palindrome_torch.py --fixture                            # the committed test fixture

The model is `nn.LSTM(1, H)` (or GRU/RNN) + `nn.Linear(H, 10)` with seed 001's
initialisation: W_ih U(±1/sqrt(input)), W_hh and the head's weight U(±1/sqrt(H)), zero
biases. `--bias single` keeps `bias_hh` at zero (not trained), as the seed's cells with one
bias per gate and `recur palindrome --bias single`; `separate` trains both, as `nn.LSTM`.
Adam (lr 1e-3), gradient-norm clipping at 1.0 before the step, cross-entropy on the logits.

`--trace FILE` writes a safetensors file that `recur`'s tests read
(`PalindromeTrainingParityTests`, or any file through RECUR_PALINDROME_TRACE): the initial
weights (`start.<name>`, state-dict names), every batch's digits (`digits` [S, B, N+1]), and per
step the loss and the gradient norm before clipping; the gradient of every parameter at the
steps in --record (`grad.<step>.<name>`).
"""
import argparse
import json
import os
import time

import numpy as np
import torch

from fixturelib import save_safetensors

FIXTURE = os.path.join(os.path.dirname(__file__), "..", "Tests", "RecurTests", "Fixtures", "torch-training")


def palindromes(rng, batch, n_digits):
    """[batch, n_digits] random palindromes: ceil(n/2) random digits, then their mirror."""
    half = (n_digits + 1) // 2
    left = rng.integers(0, 10, size=(batch, half))
    right = left[:, ::-1] if n_digits % 2 == 0 else left[:, :-1][:, ::-1]
    return np.concatenate([left, right], axis=1)


class Model(torch.nn.Module):
    def __init__(self, cell, hidden, layers, bias):
        super().__init__()
        kind = {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU, "rnn": torch.nn.RNN}[cell]
        self.rnn = kind(1, hidden, num_layers=layers)
        self.head = torch.nn.Linear(hidden, 10)
        with torch.no_grad():
            for name, p in self.rnn.named_parameters():
                if name.startswith("weight_ih_l0"):
                    k = 1.0
                elif name.startswith("weight"):
                    k = 1 / hidden ** 0.5
                else:
                    p.zero_()
                    if bias == "single" and name.startswith("bias_hh"):
                        p.requires_grad_(False)
                    continue
                p.uniform_(-k, k)
            k = 1 / hidden ** 0.5
            self.head.weight.uniform_(-k, k)
            self.head.bias.zero_()

    def forward(self, x):
        out, _ = self.rnn(x)
        return self.head(out[-1])


def train(args):
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    model = Model(args.cell, args.hidden, args.layers, args.bias)
    start = {name: p.detach().clone() for name, p in model.named_parameters()}
    trained = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.Adam(trained, lr=args.lr)
    record = {int(s) for s in args.record.split(",") if s}
    digits_all, losses, norms, grads = [], [], [], {}
    window, correct, left_plateau = [], 0, None
    t0 = time.time()
    for step in range(1, args.steps + 1):
        digits = palindromes(rng, args.batch, args.length + 1)
        digits_all.append(digits)
        x = torch.from_numpy(digits[:, :args.length].T.copy()).float().unsqueeze(-1)  # [T, B, 1]
        y = torch.from_numpy(digits[:, args.length].copy()).long()
        opt.zero_grad()
        logits = model(x)
        loss = torch.nn.functional.cross_entropy(logits, y)
        loss.backward()
        norm = torch.nn.utils.clip_grad_norm_(trained, args.clip) if args.clip > 0 else torch.tensor(0.0)
        if step in record:
            # clip_grad_norm_ scaled the gradients in place: undo it for the raw gradient.
            scale = min(1.0, args.clip / (float(norm) + 1e-6)) if args.clip > 0 else 1.0
            for name, p in model.named_parameters():
                if p.grad is not None:
                    grads[f"grad.{step}.{name}"] = p.grad.detach().clone() / scale
        opt.step()
        losses.append(loss.item())
        norms.append(float(norm))
        window.append(loss.item())
        correct += int((logits.argmax(1) == y).sum())
        if left_plateau is None and loss.item() < 0.5 * np.log(10):
            left_plateau = step
        if step % args.log_every == 0:
            print(f"step {step:6d}  loss {np.mean(window):.4f}  acc {correct / (len(window) * args.batch):.3f}"
                  f"  grad-norm {float(norm):.3e}  {time.time() - t0:.0f}s", flush=True)
            window, correct = [], 0
    test_rng = np.random.default_rng(args.seed + 1)
    hits = 0
    with torch.no_grad():
        for _ in range(args.test_batches):
            d = palindromes(test_rng, args.batch, args.length + 1)
            x = torch.from_numpy(d[:, :args.length].T.copy()).float().unsqueeze(-1)
            hits += int((model(x).argmax(1) == torch.from_numpy(d[:, args.length].copy())).sum())
    acc = hits / (args.test_batches * args.batch)
    print(json.dumps({"test_accuracy": acc, "left_plateau_step": left_plateau, "seconds": round(time.time() - t0, 1)}))
    if args.trace:
        tensors = {f"start.{k}": v for k, v in start.items()}
        tensors["digits"] = np.stack(digits_all).astype(np.float32)
        tensors["loss"] = np.array(losses, dtype=np.float32)
        tensors["grad_norm"] = np.array(norms, dtype=np.float32)
        tensors.update(grads)
        meta = {"cell": args.cell, "hidden": args.hidden, "layers": args.layers, "length": args.length,
                "batch": args.batch, "steps": args.steps, "lr": args.lr, "clip": args.clip, "bias": args.bias,
                "record": ",".join(str(s) for s in sorted(record)), "torch": torch.__version__}
        save_safetensors(args.trace, tensors, meta)
        print(f"wrote {args.trace}")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--cell", default="lstm", choices=["lstm", "gru", "rnn"])
    p.add_argument("--length", type=int, default=50)
    p.add_argument("--hidden", type=int, default=128)
    p.add_argument("--layers", type=int, default=1)
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--steps", type=int, default=10_000)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--clip", type=float, default=1.0)
    p.add_argument("--bias", default="separate", choices=["separate", "single"])
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--test-batches", type=int, default=100)
    p.add_argument("--log-every", type=int, default=500)
    p.add_argument("--record", default="1,10,100,1000")
    p.add_argument("--trace", help="write the side-by-side trace here")
    p.add_argument("--fixture", action="store_true", help="write the committed training fixtures")
    args = p.parse_args()
    torch.set_num_threads(1)
    if args.fixture:
        os.makedirs(FIXTURE, exist_ok=True)
        for bias in ("separate", "single"):
            a = argparse.Namespace(**{**vars(args), "length": 50, "hidden": 32, "batch": 16, "steps": 50,
                                      "bias": bias, "record": "1,10,50", "test_batches": 1, "log_every": 10**9,
                                      "trace": os.path.join(FIXTURE, f"lstm_palindrome_n50_{bias}.safetensors")})
            train(a)
        return
    train(args)


if __name__ == "__main__":
    main()
