#!/usr/bin/env python3
"""Writes the PyTorch reference fixtures that Recur's tests compare against.

Usage: pip install 'torch==2.13.0+cpu' numpy && python3 Scripts/make_fixtures.py
Output: Tests/RecurTests/Fixtures/torch/*.safetensors (committed; torch is not needed to test).

Recurrent fixtures: RNN (tanh, relu), LSTM, GRU x {1, 2 layers} x {uni, bi} x {full, variable
lengths} x {time-major, batch-first}. Each holds the input, initial state, every parameter
(PyTorch state_dict names), the outputs and final state, and the gradients of the fixed loss
    L = sum(output * grad_output) + sum(h_n * grad_h_n) [+ sum(c_n * grad_c_n)]
with respect to the input, the initial state and every parameter. Inputs and weights are
float32 values; the reference runs in float64 so that the fixture is PyTorch's exact answer.
Variable lengths use pack_padded_sequence(enforce_sorted=False) / pad_packed_sequence.

Projected LSTM fixtures (`lstm_proj3_*`, `nn.LSTM(proj_size=3)`, H = 6): 1 and 2 layers, uni-
and bidirectional, full and variable lengths, time-major; h is [L*D, B, 3], c [L*D, B, 6].

Long-sequence fixtures (`*_digits_T50`, `*_digits_T100`): seed 001's digit inputs and
initialisation, where the gates saturate, at 50 and 100 steps.

Optimizer fixtures: torch.optim.{SGD, Adam, AdamW, RMSprop} for 5 steps on a fixed gradient
sequence, parameters recorded after every step.
"""
import copy
import json
import os

import numpy as np
import torch

from fixturelib import save_safetensors

OUT = os.path.join(os.path.dirname(__file__), "..", "Tests", "RecurTests", "Fixtures", "torch")


def f32(t):
    """Round to float32 and back, so float64 runs start from float32-representable values."""
    return t.float().double()


def recurrent_fixture(cell, nonlinearity, layers, bidir, var_len, batch_first, seed, long_digits=None, proj=0):
    """long_digits=(T, H): seed 001's regime instead of the small random case: T steps of
    digit inputs 0..9 (input size 1, saturating the gates) and its initialisation, W_ih
    U(±1/sqrt(input)), W_hh U(±1/sqrt(H)), zero biases."""
    T, B, I, H = 5, 3, 4, 6
    if long_digits:
        (T, H), B, I = long_digits, 4, 1
    g = torch.Generator().manual_seed(seed)
    D = 2 if bidir else 1
    kwargs = dict(input_size=I, hidden_size=H, num_layers=layers, bidirectional=bidir, batch_first=batch_first)
    if cell == "rnn":
        m = torch.nn.RNN(nonlinearity=nonlinearity, **kwargs)
    elif cell == "lstm":
        m = torch.nn.LSTM(proj_size=proj, **kwargs)
    else:
        m = torch.nn.GRU(**kwargs)
    m = m.double()
    with torch.no_grad():
        for name, p in m.named_parameters():
            if not long_digits:
                k = 0.5
            elif name.startswith("bias"):
                k = 0.0
            else:
                k = 1 / (p.shape[1] ** 0.5)
            p.copy_(f32(torch.empty_like(p).uniform_(-k, k, generator=g)))
    shape = (B, T, I) if batch_first else (T, B, I)
    if long_digits:
        x = torch.randint(0, 10, shape, generator=g).double()
    else:
        x = f32(torch.randn(shape, generator=g, dtype=torch.float64))
    P = proj or H
    h0 = f32(torch.randn(layers * D, B, P, generator=g, dtype=torch.float64))
    c0 = f32(torch.randn(layers * D, B, H, generator=g, dtype=torch.float64))
    lengths = [5, 2, 4] if var_len else [T] * B
    out_shape = (B, T, D * P) if batch_first else (T, B, D * P)
    w_out = f32(torch.randn(out_shape, generator=g, dtype=torch.float64))
    w_h = f32(torch.randn(h0.shape, generator=g, dtype=torch.float64))
    w_c = f32(torch.randn(c0.shape, generator=g, dtype=torch.float64))

    def run(model, dtype):
        """Outputs, final states and the gradients of the fixed loss, in `dtype`."""
        xx, hh, cc = (t.detach().to(dtype).requires_grad_() for t in (x, h0, c0))
        state = (hh, cc) if cell == "lstm" else hh
        if var_len:
            packed = torch.nn.utils.rnn.pack_padded_sequence(xx, torch.tensor(lengths), batch_first=batch_first,
                                                             enforce_sorted=False)
            out_p, st = model(packed, state)
            out, _ = torch.nn.utils.rnn.pad_packed_sequence(out_p, batch_first=batch_first, total_length=T)
        else:
            out, st = model(xx, state)
        hn, cn = (st if cell == "lstm" else (st, None))
        loss = (out * w_out.to(dtype)).sum() + (hn * w_h.to(dtype)).sum()
        if cn is not None:
            loss = loss + (cn * w_c.to(dtype)).sum()
        loss.backward()
        r = {"output": out.detach(), "h_n": hn.detach(), "grad_x": xx.grad, "grad_h0": hh.grad}
        if cell == "lstm":
            r.update({"c_n": cn.detach(), "grad_c0": cc.grad})
        for name, p in model.named_parameters():
            r["grad." + name] = p.grad
        return r, loss

    r, loss = run(m, torch.float64)
    tensors = {"x": x, "h0": h0, "output": r["output"], "h_n": r["h_n"], "grad_output": w_out, "grad_h_n": w_h,
               "grad_x": r["grad_x"], "grad_h0": r["grad_h0"]}
    if cell == "lstm":
        tensors.update({"c0": c0, "c_n": r["c_n"], "grad_c_n": w_c, "grad_c0": r["grad_c0"]})
    for name, p in m.named_parameters():
        tensors[name] = p.detach()
        tensors["grad." + name] = r["grad." + name]
    if long_digits:
        # PyTorch's own float32 answer, so that the tests can see how far float32 is from exact.
        result32, _ = run(copy.deepcopy(m).float(), torch.float32)
        tensors.update({"torch32." + k: v for k, v in result32.items()})
    meta = {"cell": cell, "nonlinearity": nonlinearity, "layers": layers, "bidirectional": int(bidir),
            "batch_first": int(batch_first), "input_size": I, "hidden_size": H, "steps": T, "batch": B,
            "lengths": json.dumps(lengths if var_len else None), "loss": float(loss.detach())}
    if proj:
        meta["proj_size"] = proj
    name = f"{cell}{'_relu' if nonlinearity == 'relu' else ''}{f'_proj{proj}' if proj else ''}_l{layers}_{'bi' if bidir else 'uni'}" \
           f"_{'var' if var_len else 'full'}_{'bf' if batch_first else 'tm'}"
    if long_digits:
        name += f"_digits_T{T}"
    save_safetensors(os.path.join(OUT, name + ".safetensors"), tensors, meta)
    return name


def optimizer_fixture(name, make, steps=5, seed=7):
    g = torch.Generator().manual_seed(seed)
    shapes = [(3, 4), (5,)]
    params = [torch.nn.Parameter(torch.randn(s, generator=g)) for s in shapes]
    tensors = {f"p{i}.init": p.detach().clone() for i, p in enumerate(params)}
    opt, config = make(params)
    for s in range(steps):
        for i, p in enumerate(params):
            grad = torch.randn(p.shape, generator=g)
            p.grad = grad.clone()
            tensors[f"p{i}.grad{s}"] = grad
        opt.step()
        for i, p in enumerate(params):
            tensors[f"p{i}.step{s}"] = p.detach().clone()
    save_safetensors(os.path.join(OUT, f"optim_{name}.safetensors"), tensors,
                     {"config": json.dumps(config), "steps": steps, "params": len(params)})


def main():
    os.makedirs(OUT, exist_ok=True)
    torch.set_num_threads(1)
    names, seed = [], 0
    cases = [(c, "tanh") for c in ("rnn", "lstm", "gru")] + [("rnn", "relu")]
    for cell, nl in cases:
        for layers in (1, 2):
            for bidir in (False, True):
                for var_len in (False, True):
                    for bf in (False, True):
                        if nl == "relu" and (layers, bf) != (2, False):
                            continue  # relu: a smaller subset (the kernel differs only in act)
                        seed += 1
                        names.append(recurrent_fixture(cell, nl, layers, bidir, var_len, bf, seed))
    # Long sequences with saturating digit inputs (seed 001's palindromes at N = 50 and 100).
    for cell, layers, T in (("lstm", 1, 50), ("gru", 1, 50), ("lstm", 2, 100)):
        seed += 1
        names.append(recurrent_fixture(cell, "tanh", layers, False, False, False, seed, long_digits=(T, 32)))
    # LSTM with a projection (proj_size 3 < hidden 6).
    for layers in (1, 2):
        for bidir in (False, True):
            for var_len in (False, True):
                seed += 1
                names.append(recurrent_fixture("lstm", "tanh", layers, bidir, var_len, False, seed, proj=3))
    O = torch.optim
    opts = {
        "sgd": lambda p: (O.SGD(p, lr=0.1), {"kind": "sgd", "lr": 0.1}),
        "sgd_momentum_wd": lambda p: (O.SGD(p, lr=0.1, momentum=0.9, weight_decay=0.01),
                                      {"kind": "sgd", "lr": 0.1, "momentum": 0.9, "weight_decay": 0.01}),
        "sgd_nesterov": lambda p: (O.SGD(p, lr=0.05, momentum=0.9, nesterov=True),
                                   {"kind": "sgd", "lr": 0.05, "momentum": 0.9, "nesterov": True}),
        "sgd_dampening": lambda p: (O.SGD(p, lr=0.05, momentum=0.5, dampening=0.3),
                                    {"kind": "sgd", "lr": 0.05, "momentum": 0.5, "dampening": 0.3}),
        "adam": lambda p: (O.Adam(p, lr=0.01), {"kind": "adam", "lr": 0.01}),
        "adam_wd": lambda p: (O.Adam(p, lr=0.01, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1),
                              {"kind": "adam", "lr": 0.01, "beta1": 0.8, "beta2": 0.99, "eps": 1e-6,
                               "weight_decay": 0.1}),
        "adamw": lambda p: (O.AdamW(p, lr=0.01, weight_decay=0.1),
                            {"kind": "adamw", "lr": 0.01, "weight_decay": 0.1}),
        "rmsprop": lambda p: (O.RMSprop(p, lr=0.01), {"kind": "rmsprop", "lr": 0.01}),
        "rmsprop_momentum_centered": lambda p: (O.RMSprop(p, lr=0.01, alpha=0.9, momentum=0.5, centered=True,
                                                          weight_decay=0.01),
                                                {"kind": "rmsprop", "lr": 0.01, "alpha": 0.9, "momentum": 0.5,
                                                 "centered": True, "weight_decay": 0.01}),
    }
    for n, make in opts.items():
        optimizer_fixture(n, make)
    print(f"wrote {len(names)} recurrent and {len(opts)} optimizer fixtures to {os.path.normpath(OUT)}")


if __name__ == "__main__":
    main()
