#!/usr/bin/env bash
# Compares Boundary's math verifier with Hugging Face's math-verify on the same labelled
# pairs, on this machine, in one run: accuracy against the labels, single-thread speed
# (pairs/s, p50/p90/p99/max), Boundary's batch scaling over cores, and every pair on which
# the two disagree with who is right. The Markdown report is written to
# target/math-bench/report.md (and printed).
# Usage: scripts/bench/math-compare.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT="$PWD/target/math-bench"
VENV="${BOUNDARY_MATHVERIFY_VENV:-$HOME/.cache/boundary/venv-mathverify}"
mkdir -p "$OUT"

bash scripts/setup/math-verify.sh
python3 scripts/bench/math_pairs.py "$OUT/pairs.jsonl"
# Build before timing anything.
cargo bench -p boundary-math --bench throughput --no-run

{
    echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
    echo "boundary commit: $(git rev-parse --short HEAD)"
    echo "math-verify: $("$VENV/bin/python" -c 'from importlib.metadata import version; print(version("math-verify"))')"
    echo "load average at start: $(cut -d" " -f1-3 /proc/loadavg)"
} > "$OUT/environment.txt"

cargo bench -p boundary-math --bench throughput -- "$OUT/pairs.jsonl" "$OUT/boundary.jsonl" | tee "$OUT/boundary-bench.txt"
"$VENV/bin/python" scripts/bench/math_verify_run.py "$OUT/pairs.jsonl" "$OUT/math-verify.jsonl"
echo "load average at end: $(cut -d" " -f1-3 /proc/loadavg)" >> "$OUT/environment.txt"

{
    sed 's/^/    /' "$OUT/environment.txt"
    echo
    python3 scripts/bench/math_compare_report.py "$OUT/pairs.jsonl" "$OUT/boundary.jsonl" \
        "$OUT/math-verify.jsonl" "$OUT/boundary-bench.txt"
} > "$OUT/report.md"
cat "$OUT/report.md"
