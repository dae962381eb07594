#!/usr/bin/env bash
# The demo until `boundary lab` lands: real SmolLM2-135M samples on the first 10 GSM8K
# problems (examples/demo/, made by scripts/demo/make-demo-samples.py), two sampling
# temperatures treated as two models, regraded by Boundary's math verifier and analysed.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet -p boundary
boundary=target/release/boundary
store="${1:-target/demo.db}"
rm -f "$store" "$store-wal" "$store-shm"
$boundary import --store "$store" --input examples/demo/smollm2-gsm8k.jsonl
echo; echo "== grading with the math verifier (the file came graded by a last-number rule)"
$boundary grade --store "$store"
echo; echo "== pass@k with 95% bootstrap intervals"
$boundary passk --store "$store" --verifier math --bootstrap 1000
echo; echo "== coverage: problems solved at least once"
$boundary coverage --store "$store" --verifier math
echo; echo "== sampling-efficiency gap: pass@8 at T=1.0 minus pass@1 at T=0.3"
$boundary gap --store "$store" --verifier math --reference smollm2-135m-t1.0 --bootstrap 1000
echo; echo "== accuracy histogram"
$boundary histogram --store "$store" --verifier math --bins 4
