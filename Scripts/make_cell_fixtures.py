#!/usr/bin/env python3
"""Float64 references for the cells PyTorch has no module for: the peephole LSTM (Gers et al.
2002) and the layer-normalised LSTM (Ba et al. 2016, eq. 20-22), written from their equations
and differentiated by PyTorch's autograd.

Usage: pip install 'torch==2.13.0+cpu' numpy && python3 Scripts/make_cell_fixtures.py
Output: Tests/RecurTests/Fixtures/cells/*.safetensors (committed; torch is not needed to test).

Each fixture: {peephole, layernorm} x {1 layer, one direction, full length; 2 layers, both
directions, lengths [5, 2, 4]}, time-major, T=5, B=3, I=4, H=6. Tensors are named as Recur's
parameters (`weight_ih_l0`, ..., `weight_ch_l0`, `ln_ih_weight_l0`, ...), plus x, h0, c0,
output, h_n, c_n and the gradients of
    L = sum(output * grad_output) + sum(h_n * grad_h_n) + sum(c_n * grad_c_n)
(`grad_x`, `grad_h0`, `grad_c0`, `grad.<parameter>`), and the same computed in float32
(`torch32.*`): a layer normalisation divides by σ, which magnifies float32 rounding, so the
tests also accept an error up to twice float32's own. Lengths follow PyTorch's packed
sequences: each row runs only its own steps (the reverse direction from its last valid step),
padding outputs are 0 and the final state is the row's last valid one.
"""
import json
import os

import torch

from fixturelib import save_safetensors

OUT = os.path.join(os.path.dirname(__file__), "..", "Tests", "RecurTests", "Fixtures", "cells")
EPS = 1e-5


def layer_norm(z, gain, shift):
    mean = z.mean(-1, keepdim=True)
    var = ((z - mean) ** 2).mean(-1, keepdim=True)
    return gain * (z - mean) / torch.sqrt(var + EPS) + shift


def step(kind, p, x, h, c):
    """One step for one row: x [I], h, c [H] -> h, c."""
    H = h.shape[0]
    if kind == "peephole":
        a = p["weight_ih"] @ x + p["bias_ih"] + p["weight_hh"] @ h + p["bias_hh"]
        w = p["weight_ch"]
        i = torch.sigmoid(a[:H] + w[0] * c)
        f = torch.sigmoid(a[H:2 * H] + w[1] * c)
        g = torch.tanh(a[2 * H:3 * H])
        c = f * c + i * g
        o = torch.sigmoid(a[3 * H:] + w[2] * c)
        return o * torch.tanh(c), c
    a = (layer_norm(p["weight_hh"] @ h, p["ln_hh_weight"], p["ln_hh_bias"])
         + layer_norm(p["weight_ih"] @ x, p["ln_ih_weight"], p["ln_ih_bias"]) + p["bias_ih"] + p["bias_hh"])
    i, f, g, o = torch.sigmoid(a[:H]), torch.sigmoid(a[H:2 * H]), torch.tanh(a[2 * H:3 * H]), torch.sigmoid(a[3 * H:])
    c = f * c + i * g
    return o * torch.tanh(layer_norm(c, p["ln_c_weight"], p["ln_c_bias"])), c


def shapes(kind, I, H):
    s = {"weight_ih": (4 * H, I), "weight_hh": (4 * H, H), "bias_ih": (4 * H,), "bias_hh": (4 * H,)}
    if kind == "peephole":
        s["weight_ch"] = (3, H)
    else:
        for name, n in (("ih", 4 * H), ("hh", 4 * H), ("c", H)):
            s[f"ln_{name}_weight"], s[f"ln_{name}_bias"] = (n,), (n,)
    return s


def fixture(kind, layers, bidir, var_len, seed):
    T, B, I, H = 5, 3, 4, 6
    D = 2 if bidir else 1
    g = torch.Generator().manual_seed(seed)

    def rand(*shape, scale=1.0):
        return (torch.randn(*shape, generator=g, dtype=torch.float64) * scale).float().double()

    params = {}
    for l in range(layers):
        for d in range(D):
            suffix = f"_l{l}" + ("_reverse" if d else "")
            for name, shape in shapes(kind, I if l == 0 else D * H, H).items():
                base = 1.0 if name.endswith("_weight") and name.startswith("ln_") else 0.0
                params[name + suffix] = base + rand(*shape, scale=0.5)
    x, h0, c0 = rand(T, B, I), rand(layers * D, B, H), rand(layers * D, B, H)
    lengths = [5, 2, 4] if var_len else [T] * B
    w = {}

    def run(dtype):
        """Outputs, final states and every gradient of the fixed loss, computed in dtype."""
        ps = {k: v.detach().to(dtype).clone().requires_grad_() for k, v in params.items()}
        xx, hh0, cc0 = (t.detach().to(dtype).clone().requires_grad_() for t in (x, h0, c0))
        inp, hn, cn = xx, [], []
        for l in range(layers):
            outs = []
            for d in range(D):
                suffix = f"_l{l}" + ("_reverse" if d else "")
                p = {k[:-len(suffix)]: v for k, v in ps.items() if k.endswith(suffix)}
                rows_out, rows_h, rows_c = [], [], []
                for b in range(B):
                    h, c = hh0[l * D + d, b], cc0[l * D + d, b]
                    ys = [torch.zeros(H, dtype=dtype)] * T
                    order = range(lengths[b] - 1, -1, -1) if d else range(lengths[b])
                    for t in order:
                        h, c = step(kind, p, inp[t, b], h, c)
                        ys[t] = h
                    rows_out.append(torch.stack(ys))
                    rows_h.append(h)
                    rows_c.append(c)
                outs.append(torch.stack(rows_out, 1))
                hn.append(torch.stack(rows_h))
                cn.append(torch.stack(rows_c))
            inp = torch.cat(outs, -1)
        output, h_n, c_n = inp, torch.stack(hn), torch.stack(cn)
        if not w:
            w.update(out=rand(*output.shape), h=rand(*h_n.shape), c=rand(*c_n.shape))
        loss = (output * w["out"].to(dtype)).sum() + (h_n * w["h"].to(dtype)).sum() + (c_n * w["c"].to(dtype)).sum()
        loss.backward()
        r = {"output": output, "h_n": h_n, "c_n": c_n, "grad_x": xx.grad, "grad_h0": hh0.grad, "grad_c0": cc0.grad}
        r.update({"grad." + k: v.grad for k, v in ps.items()})
        return {k: v.detach() for k, v in r.items()}, float(loss.detach())

    exact, loss = run(torch.float64)
    single, _ = run(torch.float32)
    tensors = {"x": x, "h0": h0, "c0": c0, "grad_output": w["out"], "grad_h_n": w["h"], "grad_c_n": w["c"], **exact}
    tensors.update({k: v.detach() for k, v in params.items()})
    tensors.update({"torch32." + k: v for k, v in single.items()})
    meta = {"cell": kind, "layers": layers, "bidirectional": int(bidir), "input_size": I, "hidden_size": H,
            "lengths": json.dumps(lengths if var_len else None), "loss": loss}
    name = f"{kind}_l{layers}_{'bi' if bidir else 'uni'}_{'var' if var_len else 'full'}"
    save_safetensors(os.path.join(OUT, name + ".safetensors"), tensors, meta)
    return name


def main():
    os.makedirs(OUT, exist_ok=True)
    names = []
    for seed, kind in enumerate(("peephole", "layernorm")):
        names.append(fixture(kind, 1, False, False, 100 + 2 * seed))
        names.append(fixture(kind, 2, True, True, 101 + 2 * seed))
    print(f"wrote {len(names)} fixtures to {os.path.normpath(OUT)}: {', '.join(names)}")


if __name__ == "__main__":
    main()
