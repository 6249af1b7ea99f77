#!/usr/bin/env bash
# Builds the libFuzzer targets (Fuzz/FuzzLoaders.swift) over the readers of every user file
# and runs one or all of them for a fixed number of inputs from the committed seed corpora
# (Fuzz/corpus/<target>). Prints libFuzzer's summary; exits non-zero if a target finds a crash
# (the input is written to Fuzz/crash-*).
#
# Usage: Fuzz/run.sh [TARGET|all] [RUNS]   (default: all, 1000000)
# Targets: safetensors wav config modelfile csv tsv text lmcheckpoint
#
# The build follows the package layout: every Swift file of the Recur and RecurExperiments
# targets (found, not listed), with the CRecurKernels C target compiled by clang and
# COpenBLAS's module map, as one module with the fuzzer and AddressSanitizer (the
# experiments' `import Recur` lines go, as Recur is that module).
set -euo pipefail
cd "$(dirname "$0")/.."
TARGET=${1:-all}
RUNS=${2:-1000000}
OUT=.build/fuzz
mkdir -p "$OUT/src" "$OUT/include"
if [ ! -x "$OUT/fuzz-loaders" ] || [ -n "$(find Sources/Recur Sources/RecurExperiments Sources/CRecurKernels Fuzz/FuzzLoaders.swift -newer "$OUT/fuzz-loaders" -print -quit)" ]; then
    rm -f "$OUT"/src/*.swift
    while IFS= read -r f; do
        sed '/^import Recur$/d' "$f" > "$OUT/src/$(echo "${f#Sources/RecurExperiments/}" | tr / _)"
    done < <(find Sources/RecurExperiments -name '*.swift' | sort)
    cat > "$OUT/include/module.modulemap" <<MAP
module CRecurKernels {
    header "$PWD/Sources/CRecurKernels/include/recur_kernels.h"
    export *
}
MAP
    clang -O2 -fPIC -fsanitize=fuzzer-no-link,address -ISources/CRecurKernels/include -c Sources/CRecurKernels/kernels.c -o "$OUT/kernels.o"
    mapfile -t engine < <(find Sources/Recur -name '*.swift' | sort)
    swiftc -O -parse-as-library -sanitize=fuzzer,address -module-name RecurFuzz -package-name Recur \
        -I "$OUT/include" -I Sources/COpenBLAS \
        Fuzz/FuzzLoaders.swift "${engine[@]}" "$OUT"/src/*.swift "$OUT/kernels.o" -lopenblas \
        -o "$OUT/fuzz-loaders" 2>&1 | { grep -v "Cannot export local symbol" || true; }
fi
targets=(safetensors wav config modelfile csv tsv text lmcheckpoint)
[ "$TARGET" = all ] || targets=("$TARGET")
for t in "${targets[@]}"; do
    mkdir -p "$OUT/corpus/$t"
    before=$(ls Fuzz/crash-$t-* 2>/dev/null || true)
    echo "== $t"
    # New inputs go to a scratch folder; the committed corpus stays as it is. Leak checking is
    # off, in libFuzzer and in LeakSanitizer's exit check alike: its one report is a single
    # 4 KiB block that Foundation's Data(contentsOf:) keeps for the life of the process (not one
    # per input), found at exit, which libFuzzer would file as a crash on an empty input.
    ASAN_OPTIONS=detect_leaks=0 SWIFT_BACKTRACE=enable=no RECUR_FUZZ_TARGET=$t "$OUT/fuzz-loaders" -runs="$RUNS" -max_len=8192 -timeout=10 -rss_limit_mb=2048 -detect_leaks=0 \
        -artifact_prefix=Fuzz/crash-$t- -print_final_stats=1 -dict=Fuzz/loaders.dict "$OUT/corpus/$t" "Fuzz/corpus/$t" 2>&1 \
        | grep -E "^(stat::number_of_executed_units|stat::peak_rss_mb|Done|==[0-9]+==ERROR|SUMMARY|.*deadly signal|.*Test unit written|.*[Ee]rror)" || true
    # Only a reproducer written by this run counts (an older one may be kept for study).
    if [ "$(ls Fuzz/crash-$t-* 2>/dev/null || true)" != "$before" ]; then echo "$t: crash found"; exit 1; fi
done
