#!/usr/bin/env bash
# Kills a training run with SIGKILL in the middle of an epoch, resumes it from its last
# checkpoint, and compares its final metrics with an uninterrupted run of the same command.
#
# Usage: Scripts/kill_resume_demo.sh [PTB_DIR] [KILL_AFTER_SECONDS]
# Default data: ../shared/data/text/ptb (trains on ptb.valid.txt, validates/tests on ptb.test.txt).
set -euo pipefail
cd "$(dirname "$0")/.."
PTB=${1:-../shared/data/text/ptb}
KILL_AFTER=${2:-25}
RECUR=.build/release/recur
[ -x "$RECUR" ] || swift build -c release --product recur >/dev/null
WORK=$(mktemp -d)
ARGS=(lm --train "$PTB/ptb.valid.txt" --valid "$PTB/ptb.test.txt" --test "$PTB/ptb.test.txt"
      --epochs 4 --dropout 0.5 --optimizer adam --hidden 200 --seed 7 --json --quiet)

echo "uninterrupted: recur ${ARGS[*]} --save $WORK/a.safetensors"
"$RECUR" "${ARGS[@]}" --save "$WORK/a.safetensors" > "$WORK/a.json"

echo "interrupted:   same command with --save $WORK/b.safetensors, kill -9 after ${KILL_AFTER}s"
"$RECUR" "${ARGS[@]}" --save "$WORK/b.safetensors" > "$WORK/b-killed.json" &
PID=$!
sleep "$KILL_AFTER"
kill -9 "$PID"
wait "$PID" 2>/dev/null || echo "killed (exit status $?)"
python3 - "$WORK/b.safetensors" <<'PY'
import json, struct, sys
with open(sys.argv[1], "rb") as f:
    n = struct.unpack("<Q", f.read(8))[0]
    meta = json.loads(f.read(n))["__metadata__"]
print(f"last checkpoint on disk: epoch {len(json.loads(meta['history']))}, optimizer step {meta['optimizer_step']}")
PY
echo "resumed:       same command with --resume $WORK/b.safetensors"
"$RECUR" "${ARGS[@]}" --save "$WORK/b.safetensors" --resume "$WORK/b.safetensors" > "$WORK/b.json"

python3 - "$WORK/a.json" "$WORK/b.json" <<'PY'
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
keys = ["train_perplexity", "valid_perplexity", "test_perplexity", "best_valid_perplexity", "test_perplexity_at_best_valid", "epochs_run"]
print("| metric | uninterrupted | killed + resumed | identical |")
print("|---|---|---|---|")
same = True
for k in keys:
    if k in a:
        print(f"| {k} | {a[k]!r} | {b[k]!r} | {'yes' if a[k] == b[k] else 'NO'} |")
        same &= a[k] == b[k]
print("bit-identical" if same else "DIFFERENT")
sys.exit(0 if same else 1)
PY
rm -rf "$WORK"
