#!/usr/bin/env bash
# Which weight types score faster expanded to f32: SmolLM2-135M requantized by llama.cpp into
# each type, then per file, alternating, llama.cpp's prompt processing of 512 tokens and
# Boundary's scoring of 512 tokens with the weights as stored and expanded to f32
# (`engine_bench MODEL score 512 stored|f32`). This is the evidence behind the types that
# `boundary score --weights auto` expands (crates/boundary-engine/src/f32_weights.rs).
#
#   scripts/bench/scoring_weights.sh [OUT_DIR]        (default: target/bench-scoring-weights)
#
# TYPES (default below) are llama.cpp's LLAMA_FTYPE_ names; REPEATS rounds (default 2). The
# copies are requantized from Q4_1, so they measure speed, not quality. About 15 minutes.
set -euo pipefail

. "$(dirname "${BASH_SOURCE[0]}")/engine_common.sh"
out="${1:-$repo/target/bench-scoring-weights}"
repeats="${REPEATS:-2}"
types="${TYPES:-MOSTLY_Q4_0 MOSTLY_Q4_1 MOSTLY_Q5_0 MOSTLY_Q5_1 MOSTLY_Q8_0 MOSTLY_Q2_K MOSTLY_Q3_K_M MOSTLY_Q4_K_M MOSTLY_Q5_K_M MOSTLY_Q6_K MOSTLY_F16}"
(cd "$repo" && RUSTFLAGS="-C target-cpu=native" CARGO_TARGET_DIR="$repo/target/native" \
    cargo build --release -q -p boundary-engine --example engine_bench)
ours="$repo/target/native/release/examples/engine_bench"

mkdir -p "$out"
for type in $types; do
    [[ -f "$out/$type.gguf" ]] || "$python" - "$model" "$out/$type.gguf" "$type" 2>/dev/null <<'EOF'
import sys
import llama_cpp as lc
source, target, ftype = sys.argv[1:]
params = lc.llama_model_quantize_default_params()
params.ftype = getattr(lc, "LLAMA_FTYPE_" + ftype)
params.allow_requantize = True
if lc.llama_model_quantize(source.encode(), target.encode(), params) != 0:
    sys.exit(f"llama.cpp could not write {target}")
EOF
done

results="$out/results.jsonl"
: >"$results"
for _ in $(seq "$repeats"); do
    for type in $types; do
        file="$out/$type.gguf"
        "$python" "$here/engine_llama_cpp.py" "$file" prefill 512 2>/dev/null |
            "$python" -c 'import json,sys; r=json.load(sys.stdin); r["file"]=sys.argv[1]; print(json.dumps(r))' "$type" >>"$results"
        for weights in stored f32; do
            "$ours" "$file" score 512 "$weights" 2>/dev/null |
                "$python" -c 'import json,sys; r=json.load(sys.stdin); r["file"]=sys.argv[1]; r["asked"]=sys.argv[2]; print(json.dumps(r))' "$type" "$weights" >>"$results"
        done
    done
done

"$python" - "$results" <<'EOF' | tee "$out/summary.md"
import json, statistics, sys
from collections import defaultdict
rates = defaultdict(list)
for line in open(sys.argv[1]):
    r = json.loads(line)
    rates[(r["file"], r.get("asked", "llama.cpp prefill"))].append(r["tokens_per_second"])
print("| weights | llama.cpp prompt processing | Boundary scoring, stored | Boundary scoring, f32 | f32 / stored |")
print("|---|---:|---:|---:|---:|")
for file in dict.fromkeys(k[0] for k in rates):
    prefill, stored, f32 = (statistics.median(rates[(file, k)]) for k in ("llama.cpp prefill", "stored", "f32"))
    print(f"| {file} | {prefill:.0f} | {stored:.0f} | {f32:.0f} | {f32 / stored:.2f} |")
EOF
