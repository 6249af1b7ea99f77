#!/usr/bin/env python3
"""Replays the input cells of seed 004 (Assignment 4, "Sequences in deep learning") with
numpy and writes their inputs to Tests/RecurTests/Fixtures/seed004/inputs.json.

The cells run in the notebook's order from one `np.random.seed(1)` per cell, exactly as the
seed wrote them. A value set in one cell and not in a later one carries over: cell In[72]
draws `b` but builds `parameters` with the `ba` of cell In[62], so the fixture stores that
`ba` under In[72].

Only inputs are written; the numbers to reproduce are the ones printed in the seed, which the
Swift tests (SeedCellTests) quote. As a check that the replay is right, this script also runs
the seed's own rnn_cell_forward and gru_cell_backward and prints what they give, which must
equal the seed's printouts. The GRU backward printed in the seed cannot run as shown (its
da_prev adds a (3, 10) term to a (5, 10) one); with the recurrent columns Wu[:, :n_c] and
Wr[:, :n_c] in that line, it reproduces every printed GRU gradient, including the wrong ones
(docs/seed-004.md).

Usage: python3 Scripts/make_seed004_fixture.py   (needs numpy only)
"""
import json
import pathlib

import numpy as np

cells = {}


def record(name, **arrays):
    cells[name] = {k: {"shape": list(v.shape), "data": [float(x) for x in v.reshape(-1)]}
                   for k, v in arrays.items()}


# In[60] rnn_cell_forward
np.random.seed(1)
xt = np.random.randn(3, 10); a_prev = np.random.randn(5, 10)
Waa = np.random.randn(5, 5); Wax = np.random.randn(5, 3); Wya = np.random.randn(2, 5)
ba = np.random.randn(5, 1); by = np.random.randn(2, 1)
record("rnn_cell_forward", xt=xt, a_prev=a_prev, Waa=Waa, Wax=Wax, Wya=Wya, ba=ba, by=by)
check = np.tanh(Wax.dot(xt) + Waa.dot(a_prev) + ba)[4]

# In[62] rnn_forward
np.random.seed(1)
x = np.random.randn(3, 10, 4); a0 = np.random.randn(5, 10)
Waa = np.random.randn(5, 5); Wax = np.random.randn(5, 3); Wya = np.random.randn(2, 5)
ba = np.random.randn(5, 1); by = np.random.randn(2, 1)
record("rnn_forward", x=x, a0=a0, Waa=Waa, Wax=Wax, Wya=Wya, ba=ba, by=by)


def lstm_inputs(first_shape):
    np.random.seed(1)
    first = np.random.randn(*first_shape)
    rest = {"a_prev" if len(first_shape) == 2 else "a0": np.random.randn(5, 10)}
    if len(first_shape) == 2:
        rest["c_prev"] = np.random.randn(5, 10)
    for w, b in (("Wf", "bf"), ("Wi", "bi"), ("Wo", "bo"), ("Wc", "bc")):
        rest[w] = np.random.randn(5, 5 + 3)
        rest[b] = np.random.randn(5, 1)
    rest["Wy"] = np.random.randn(2, 5); rest["by"] = np.random.randn(2, 1)
    return first, rest


# In[64] lstm_cell_forward, In[66] lstm_forward
xt, rest = lstm_inputs((3, 10)); record("lstm_cell_forward", xt=xt, **rest)
x, rest = lstm_inputs((3, 10, 7)); record("lstm_forward", x=x, **rest)


def gru_inputs(first_shape, state_name):
    np.random.seed(1)
    out = {("xt" if len(first_shape) == 2 else "x"): np.random.randn(*first_shape),
           state_name: np.random.randn(5, 10)}
    for w, b in (("Wu", "bu"), ("Wr", "br"), ("Wc", "bc")):
        out[w] = np.random.randn(5, 5 + 3)
        out[b] = np.random.randn(5, 1)
    out["Wy"] = np.random.randn(2, 5); out["by"] = np.random.randn(2, 1)
    return out


# In[68] gru_cell_forward, In[70] gru_forward
record("gru_cell_forward", **gru_inputs((3, 10), "c_prev"))
record("gru_forward", **gru_inputs((3, 10, 7), "c0"))

# In[72] rnn_cell_backward: draws `b`, but its parameters use the `ba` of In[62].
np.random.seed(1)
xt = np.random.randn(3, 10); a_prev = np.random.randn(5, 10)
Wax = np.random.randn(5, 3); Waa = np.random.randn(5, 5); Wya = np.random.randn(2, 5)
b = np.random.randn(5, 1); by = np.random.randn(2, 1)
da_next = np.random.randn(5, 10)
record("rnn_cell_backward", xt=xt, a_prev=a_prev, Wax=Wax, Waa=Waa, Wya=Wya, ba=ba, by=by, da_next=da_next)

# In[74] rnn_backward
np.random.seed(1)
x = np.random.randn(3, 10, 4); a0 = np.random.randn(5, 10)
Wax = np.random.randn(5, 3); Waa = np.random.randn(5, 5); Wya = np.random.randn(2, 5)
ba = np.random.randn(5, 1); by = np.random.randn(2, 1)
da = np.random.randn(5, 10, 4)
record("rnn_backward", x=x, a0=a0, Wax=Wax, Waa=Waa, Wya=Wya, ba=ba, by=by, da=da)

# In[212] gru_cell_backward
inputs = gru_inputs((3, 10), "c_prev")
inputs["da_next"] = np.random.randn(5, 10)
record("gru_cell_backward", **inputs)

# In[214] gru_backward: x has 7 steps but da only 4, so the seed back-propagates steps 0..3.
inputs = gru_inputs((3, 10, 7), "c0")
inputs["da"] = np.random.randn(5, 10, 4)
record("gru_backward", **inputs)



def seed_gru_backward(da_next, c_prev, xt, p):
    """Seed 004's gru_cell_backward as it must have run (see the docstring)."""
    concat = np.concatenate((c_prev, xt))
    ut = 1 / (1 + np.exp(-(p["Wu"].dot(concat) + p["bu"])))
    rt = 1 / (1 + np.exp(-(p["Wr"].dot(concat) + p["br"])))
    cct = np.tanh(p["Wc"].dot(np.concatenate((rt * c_prev, xt))) + p["bc"])
    n_c = c_prev.shape[0]
    Wu, Wr, Wc = p["Wu"], p["Wr"], p["Wc"]
    c_diff = cct - c_prev
    cx = np.concatenate((c_prev, xt)); rcx = np.concatenate((c_prev * rt, xt))
    c0 = np.concatenate((c_prev, np.zeros(xt.shape))); r0 = np.concatenate((rt, np.zeros(xt.shape)))
    g = {"dWu": (da_next * c_diff * ut * (1 - ut)).dot(cx.T),
         "dWc": (da_next * ut * (1 - cct**2)).dot(rcx.T),
         "dbr": np.sum(da_next * ut * (1 - cct**2) * rt * (1 - rt) * Wc.dot(c0), axis=1).reshape((-1, 1))}
    g["da_prev"] = (da_next * (1 - ut) + Wu[:, :n_c].T.dot(da_next * c_diff * ut * (1 - ut))
                    + da_next * ut * (1 - cct**2) * Wc.dot(r0)
                    + Wr[:, :n_c].T.dot(da_next * ut * (1 - cct**2) * Wc.dot(c0) * rt * (1 - rt)))
    g["dxt"] = (Wu[:, n_c:].T.dot(da_next * c_diff * ut * (1 - ut)) + Wc[:, n_c:].T.dot(da_next * ut * (1 - cct**2))
                + Wr[:, n_c:].T.dot(da_next * ut * (1 - cct**2) * Wc.dot(c0) * rt * (1 - rt)))
    c_next = ut * cct + (1 - ut) * c_prev
    return c_next, g


inputs = gru_inputs((3, 10), "c_prev"); inputs["da_next"] = np.random.randn(5, 10)
_, g = seed_gru_backward(inputs["da_next"], inputs["c_prev"], inputs["xt"], inputs)
gru_check = (f'dxt[1][2] = {g["dxt"][1][2]}, da_prev[2][3] = {g["da_prev"][2][3]}, dWu[3][1] = {g["dWu"][3][1]}, '
             f'dWc[1][2] = {g["dWc"][1][2]}, dbr[4] = {g["dbr"][4]}')
inputs = gru_inputs((3, 10, 7), "c0"); inputs["da"] = np.random.randn(5, 10, 4)
x, c, caches = inputs["x"], inputs["c0"], []
for t in range(7):
    caches.append((c, x[:, :, t])); c, _ = seed_gru_backward(np.zeros((5, 10)), c, x[:, :, t], inputs)
carry, dx, sums = np.zeros((5, 10)), np.zeros(x.shape), {}
for t in reversed(range(4)):
    _, g = seed_gru_backward(inputs["da"][:, :, t] + carry, caches[t][0], caches[t][1], inputs)
    carry, dx[:, :, t] = g["da_prev"], g["dxt"]
    for k in ("dWu", "dWc", "dbr"): sums[k] = sums.get(k, 0) + g[k]
gru_seq_check = (f'dx[1][2] = {dx[1][2]}, dc0[2][3] = {carry[2][3]}, dWu[3][1] = {sums["dWu"][3][1]}, '
                 f'dWc[1][2] = {sums["dWc"][1][2]}, dbr[4] = {sums["dbr"][4]}')

out = pathlib.Path(__file__).resolve().parent.parent / "Tests/RecurTests/Fixtures/seed004/inputs.json"
out.write_text(json.dumps(cells, sort_keys=True) + "\n")
print(f"wrote {out} ({len(cells)} cells)")
print("check: a_next[4] =", check, "(seed prints [ 0.59584544  0.18141802 ...])")
print("check: the seed's gru_cell_backward:", gru_check)
print("       (seed prints -0.5587102488376965, 0.07043422916503733, -0.0907624548994332, -0.28268841181863846, [0.08794573])")
print("check: the seed's gru_backward:", gru_seq_check)
print("       (seed prints [-0.53193461 -0.4208328 -0.507653 -0.54948361 0. 0. 0.], -2.464280256218576, 1.6118495631921883,")
print("        0.04836978742650893, [0.77298005])")
