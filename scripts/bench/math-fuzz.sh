#!/usr/bin/env bash
# Fuzzes the math verifier for DURATION seconds (default 600), then replays the whole
# corpus the fuzzer built in an optimised, uninstrumented build and prints the latency
# distribution and the slowest inputs (the per-call bound to check is 50 ms).
# A crash is a panic, or a call slower than MAX_MS milliseconds under the fuzzer's coverage
# instrumentation (default 1000: instrumented code on a shared machine runs many times
# slower, so this only catches blow-ups; the replay measures the real bound).
# Uses cargo-fuzz (libFuzzer) on the stable toolchain through RUSTC_BOOTSTRAP=1, without
# sanitizers; the seed corpus is the labelled set. Without cargo-fuzz it falls back to
# the proptest properties with many cases.
# Usage: scripts/bench/math-fuzz.sh [DURATION_SECONDS]
set -euo pipefail
cd "$(dirname "$0")/../.."
DURATION="${1:-600}"
MAX_MS="${MAX_MS:-1000}"
CORPUS="$PWD/target/math-fuzz/corpus"
mkdir -p "$CORPUS"

# Seeds: each labelled case as "gold<newline>response".
python3 - "$CORPUS" <<'PY'
import hashlib, json, sys
from pathlib import Path
corpus = Path(sys.argv[1])
for line in open("crates/boundary-math/tests/data/labelled.jsonl"):
    case = json.loads(line)
    data = (case["gold"] + "\n" + case["response"]).encode()
    (corpus / hashlib.sha1(data).hexdigest()).write_bytes(data)
PY

if command -v cargo-fuzz >/dev/null 2>&1; then
    (cd fuzz && BOUNDARY_FUZZ_MAX_MS="$MAX_MS" RUSTC_BOOTSTRAP=1 cargo fuzz run -O --sanitizer none math_verify \
        "$CORPUS" -- -max_total_time="$DURATION" -max_len=4096 -timeout=10 -rss_limit_mb=2048 -print_final_stats=1)
    cargo bench -p boundary-math --bench worst_case -- "$CORPUS"
else
    echo "cargo-fuzz not found (cargo install cargo-fuzz); running the proptest properties instead" >&2
    deadline=$((SECONDS + DURATION))
    while [ "$SECONDS" -lt "$deadline" ]; do
        PROPTEST_CASES=20000 cargo test --release -q -p boundary-math --test properties
    done
fi
