#!/usr/bin/env bash
# Builds the libFuzzer target over the safetensors and WAV loaders and runs it for a fixed
# number of iterations from the committed seed corpus (Fuzz/corpus). Prints libFuzzer's
# summary; exits non-zero if it finds a crash (the input is written to Fuzz/crash-*).
#
# Usage: Fuzz/run.sh [RUNS]   (default 1000000)
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-1000000}
OUT=.build/fuzz
mkdir -p "$OUT" "$OUT/corpus"
# The loaders and what they use, compiled as one module with the fuzzer and AddressSanitizer
# (the WAV reader lives in RecurExperiments: its `import Recur` goes, as that is this module).
mkdir -p "$OUT/src"
sed '/^import Recur$/d' Sources/RecurExperiments/Audio/WAVFile.swift > "$OUT/src/WAVFile.swift"
swiftc -O -parse-as-library -sanitize=fuzzer,address -module-name RecurFuzz \
    Fuzz/FuzzLoaders.swift Sources/Recur/IO/Safetensors.swift "$OUT/src/WAVFile.swift" \
    Sources/Recur/Tensor/Tensor.swift Sources/Recur/Errors/RecurError.swift \
    -o "$OUT/fuzz-loaders"
# New inputs go to a scratch folder; the committed corpus stays as it is.
"$OUT/fuzz-loaders" -runs="$RUNS" -max_len=4096 -timeout=10 -artifact_prefix=Fuzz/ -print_final_stats=1 -dict=Fuzz/loaders.dict \
    "$OUT/corpus" Fuzz/corpus
