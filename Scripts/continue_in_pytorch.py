#!/usr/bin/env python3
"""Continue training a Recur language model in PyTorch DistributedDataParallel.

A Recur checkpoint (`recur lm --save F`) goes to PyTorch whole: `recur export --to pytorch`
writes its weights and model.py (the nn.Module), this script loads them through model.py,
checks that the loaded model gives Recur's own perplexity on the text (evaluated exactly as
`recur lm` evaluates, see `perplexity` below), and then trains it further with
torch.distributed (gloo, on this machine's loopback) on that text, printing the loss of
every rank as it goes on from where Recur left it.

    recur lm --train ptb.test.txt --valid ptb.valid.txt --test ptb.valid.txt --epochs 3 \
        --save lm.safetensors --out run
    torchrun --nproc_per_node 2 Scripts/continue_in_pytorch.py --checkpoint lm.safetensors \
        --text ptb.valid.txt --results run/results.json

Evaluation, as `recur lm` does it (LanguageModelExperiment.perplexity): the text's lines,
stripped, empty ones skipped, split on spaces and tabs, each followed by <eos>; words not in
the checkpoint's vocabulary become <unk>; the ids are cut into B = min(eval_batch_size,
max(1, N // 2)) streams of N // B consecutive tokens (stream b is tokens b*S ... b*S+S-1,
the rest dropped); windows of `bptt` steps from step 0 (the last one shorter), inputs
steps [s, s+T) and targets [s+1, s+1+T); the state starts at zero and is carried from one
window to the next; perplexity = exp(total NLL / tokens).

Training here: the same streams split between the ranks (rank r takes streams r, r+W, ...),
`bptt`-step windows with the state carried and detached, plain SGD at --lr, the gradient
norm clipped to the checkpoint's clip; DDP averages the gradients of the ranks.

Needs torch and safetensors. Ends non-zero if the starting perplexity is not Recur's to
1e-4 (relative).
"""
import argparse
import importlib.util
import json
import math
import os
import pathlib
import subprocess
import sys

import torch
import torch.distributed as dist
from safetensors import safe_open

ROOT = pathlib.Path(__file__).resolve().parent.parent


def words(path):
    """The text's units as `recur lm` reads them at the word level."""
    units = []
    for line in pathlib.Path(path).read_text(encoding="utf-8").split("\n"):
        line = line.strip(" \t\r")
        if not line:
            continue
        units += [w for w in line.replace("\t", " ").split(" ") if w] + ["<eos>"]
    return units


def streams(ids, batch):
    """[steps, batch]: stream b holds ids[b*steps : (b+1)*steps]."""
    steps = len(ids) // batch
    return torch.tensor(ids[: steps * batch], dtype=torch.int64).view(batch, steps).t().contiguous()


def perplexity(net, data, bptt):
    """exp(mean NLL per token) over data [steps, batch], state carried across windows."""
    steps = data.shape[0]
    state, nll, tokens = None, 0.0, 0
    with torch.no_grad():
        for start in range(0, steps - 1, bptt):
            T = min(bptt, steps - 1 - start)
            logits, state = net(data[start:start + T], state=state)
            targets = data[start + 1:start + 1 + T]
            nll += torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1), reduction="sum").item()
            tokens += targets.numel()
    return math.exp(nll / tokens)


def detach(state):
    return tuple(s.detach() for s in state) if isinstance(state, tuple) else state.detach()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--checkpoint", required=True, help="a Recur language-model checkpoint (recur lm --save)")
    parser.add_argument("--text", required=True, help="the text to evaluate on and train on (e.g. ptb.valid.txt)")
    parser.add_argument("--results", help="the Recur run's results.json, for its perplexity on --text (valid_perplexity)")
    parser.add_argument("--recur-perplexity", type=float, help="Recur's perplexity on --text, if not from --results")
    parser.add_argument("--recur", default=str(ROOT / ".build/release/recur"))
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--lr", type=float, default=0.5)
    parser.add_argument("--log-every", type=int, default=20)
    args = parser.parse_args()

    dist.init_process_group("gloo")
    rank, world = dist.get_rank(), dist.get_world_size()
    torch.set_num_threads(1)
    log = lambda message: print(f"[rank {rank}/{world}] {message}", flush=True)

    out = pathlib.Path(args.checkpoint + ".pytorch")
    exported = torch.tensor([1])
    if rank == 0:
        out.mkdir(exist_ok=True)
        r = subprocess.run([args.recur, "export", "--checkpoint", args.checkpoint, "--to", "pytorch", str(out / "model.safetensors")],
                           capture_output=True, text=True)
        if r.returncode != 0:
            log(f"recur export failed: {r.stderr.strip()}")
            exported = torch.tensor([0])
    dist.broadcast(exported, src=0)  # every rank stops if the export failed
    if exported.item() == 0:
        sys.exit(1)
    spec = importlib.util.spec_from_file_location("recur_model", out / "model.py")
    model = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(model)
    net = model.load()

    with safe_open(args.checkpoint, "pt") as f:
        meta = f.metadata()
    config = json.loads(meta["config"])
    if config.get("level", "word") != "word":
        sys.exit(f"{args.checkpoint} is a {config['level']}-level model; this script reads word-level text as recur lm --level word does")
    vocabulary = json.loads(meta["vocabulary"])
    index = {w: i for i, w in enumerate(vocabulary)}
    unk = index.get("<unk>")
    ids = [index.get(w, unk) for w in words(args.text)]
    if any(i is None for i in ids):
        sys.exit(f"{args.text}: words outside the vocabulary, which has no <unk>")
    bptt, eval_batch = config["bptt"], config["eval_batch_size"]

    expected = args.recur_perplexity
    if args.results:
        expected = json.loads(pathlib.Path(args.results).read_text())["valid_perplexity"]
    start = perplexity(net, streams(ids, min(eval_batch, max(1, len(ids) // 2))), bptt)
    log(f"loaded {args.checkpoint} through model.py: perplexity on {pathlib.Path(args.text).name} {start:.4f}"
        + (f"; Recur's {expected:.4f}; relative difference {abs(start - expected) / expected:.1e}" if expected else ""))
    ok = expected is None or abs(start - expected) / expected <= 1e-4

    ddp = torch.nn.parallel.DistributedDataParallel(net)
    ddp.train()
    optimizer = torch.optim.SGD(ddp.parameters(), lr=args.lr)
    if config["batch_size"] < world:
        sys.exit(f"{config['batch_size']} streams cannot be split between {world} ranks")
    data = streams(ids, config["batch_size"])[:, rank::world]
    clip = config.get("clip", 5.0)
    log(f"training on streams {rank}, {rank + world}, ... ({data.shape[1]} of {config['batch_size']}), bptt {bptt}, SGD lr {args.lr}, clip {clip}")
    step = 0
    for epoch in range(1, args.epochs + 1):
        state, total, count = None, 0.0, 0
        for s in range(0, data.shape[0] - 1, bptt):
            T = min(bptt, data.shape[0] - 1 - s)
            logits, state = ddp(data[s:s + T], state=state)
            state = detach(state)
            loss = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), data[s + 1:s + 1 + T].reshape(-1))
            optimizer.zero_grad()
            loss.backward()
            if clip:
                torch.nn.utils.clip_grad_norm_(ddp.parameters(), clip)
            optimizer.step()
            step += 1
            total, count = total + loss.item() * T, count + T
            if step % args.log_every == 0:
                log(f"epoch {epoch} step {step}: train loss {total / count:.4f} (perplexity {math.exp(total / count):.2f})")
        net.eval()
        after = perplexity(net, streams(ids, min(eval_batch, max(1, len(ids) // 2))), bptt)
        net.train()
        log(f"after epoch {epoch} in DDP: train loss {total / count:.4f}; perplexity on {pathlib.Path(args.text).name} {after:.4f} (started at {start:.4f})")
    dist.destroy_process_group()
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
