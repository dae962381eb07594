#!/usr/bin/env bash
# The embedded engine against llama.cpp (llama-cpp-python 0.3.36), measured side by side in one
# go on this machine: single-stream and batched decoding (n = 16, 64), prompt processing and
# scoring (Boundary's with f32 and with the stored weights), peak memory at n = 64 x 1024 tokens, and a whole `boundary sample` run of 30 GSM8K
# problems x 16 samples against the same samples made one after another with llama-cpp-python.
#
#   scripts/bench/engine.sh [OUT_DIR]        (default: target/bench-engine)
#
# Every measurement alternates the two engines, REPEATS times (default 3), and the raw JSON lines
# go to OUT_DIR/results.jsonl; OUT_DIR/summary.md has the medians and ratios. Builds with
# RUSTFLAGS="-C target-cpu=native" (llama-cpp-python is also built for the local CPU by pip);
# set NATIVE=0 for the portable build. PARTS picks a subset of "decode memory gsm8k" (default:
# all three); GSM8K_PROBLEMS (default 30) how many of the GSM8K problems the whole run samples.
# On 2 idle cores decode takes about 15 minutes, memory 15-30, gsm8k about 56.
set -euo pipefail

. "$(dirname "${BASH_SOURCE[0]}")/engine_common.sh"
out="${1:-$repo/target/bench-engine}"
repeats="${REPEATS:-3}"

target_dir="$repo/target/native"
rustflags="-C target-cpu=native"
if [[ "${NATIVE:-1}" == 0 ]]; then
    target_dir="$repo/target"
    rustflags=""
fi
(cd "$repo" && RUSTFLAGS="$rustflags" CARGO_TARGET_DIR="$target_dir" \
    cargo build --release -q -p boundary-engine --example engine_bench -p boundary --bin boundary)
ours="$target_dir/release/examples/engine_bench"
boundary="$target_dir/release/boundary"

mkdir -p "$out"
results="$out/results.jsonl"
: >"$results"
llama_log="$out/llama_cpp.log" # llama.cpp's own loading log, thousands of lines per run
: >"$llama_log"
measure() { # args after the model, for both engines
    for _ in $(seq "$repeats"); do
        "$ours" "$model" "$@" >>"$results"
        "$python" "$here/engine_llama_cpp.py" "$model" "$@" >>"$results" 2>>"$llama_log"
    done
}

parts=" ${PARTS:-decode memory gsm8k} "
if [[ "$parts" == *" decode "* ]]; then
    echo "engine bench: decoding, prompt processing, scoring ($repeats rounds each)"
    measure single 256
    measure batched 16 256
    measure batched 64 256
    measure prefill 512
    measure score 512
    # Boundary's scoring with the stored Q4_1 weights, for comparison with its default above
    # (the weights expanded to f32, as `boundary score` does for a model this small).
    for _ in $(seq "$repeats"); do "$ours" "$model" score 512 stored >>"$results"; done
fi
if [[ "$parts" == *" memory "* ]]; then
    echo "engine bench: peak memory, n = 64 x 1024 tokens"
    "$ours" "$model" batched 64 1024 >>"$results"
    "$python" "$here/engine_llama_cpp.py" "$model" batched 64 1024 >>"$results" 2>>"$llama_log"
fi
if [[ "$parts" != *" gsm8k "* ]]; then
    "$python" "$here/engine_summary.py" "$results" | tee "$out/summary.md"
    exit 0
fi

problems="${GSM8K_PROBLEMS:-30}"
echo "engine bench: $problems GSM8K problems x 16 samples, max 512 tokens"
prompts="$out/gsm8k-$problems.jsonl"
head -n "$problems" "$here/data/gsm8k-30.jsonl" >"$prompts"
rm -f "$out/run.db"
start=$(date +%s.%N)
# Its log ends with where the engine's time went (decode, prefill, sampling, store).
if ! "$boundary" sample --model "$model" --prompts "$prompts" --n 16 --temperature 0.6 \
    --top-p 0.95 --max-tokens 512 --seed 0 --store "$out/run.db" --threads "$BOUNDARY_THREADS" \
    --quiet -v 2>"$out/boundary-sample.log"; then
    cat "$out/boundary-sample.log" >&2
    exit 1
fi
end=$(date +%s.%N)
tokens=$("$python" - "$out/run.db" <<'EOF'
import sqlite3, sys
print(sqlite3.connect(sys.argv[1]).execute("SELECT SUM(completion_tokens) FROM samples").fetchone()[0])
EOF
)
"$python" - "$start" "$end" "$tokens" >>"$results" <<'EOF'
import json, sys
start, end, tokens = float(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3])
print(json.dumps({"engine": "boundary", "mode": "gsm8k", "wall_seconds": end - start,
                  "generated_tokens": tokens, "tokens_per_second": tokens / (end - start)}))
EOF
"$python" "$here/engine_llama_cpp.py" "$model" sequential "$prompts" 16 512 >>"$results" 2>>"$llama_log"

"$python" "$here/engine_summary.py" "$results" | tee "$out/summary.md"
