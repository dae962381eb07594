#!/usr/bin/env bash
# The stages of `boundary eval` after sampling, at the paper's scale, measured in one go:
# a store with 2 models x PROBLEMS problems x N samples of real-looking math responses
# (MATH500 gold answers; each model's per-problem accuracy drawn at random, seeded) is
# imported, graded by the math verifier, and reported (pass@k with 1,000 bootstrap
# resamples, crossover k, coverage, histograms, ΔSE, plots, tables, sample browser).
# A second `boundary report` shows the cost of the analyses alone, and a second
# `boundary grade` the cost of finding nothing left to grade.
#
#   scripts/bench/eval-report.sh [PROBLEMS] [N]    (defaults 500 and 256; results in target/bench/eval/)
#
# Needs a release build: cargo build --release -p boundary
set -euo pipefail
cd "$(dirname "$0")/../.."
PROBLEMS="${1:-500}"
N="${2:-256}"
BOUNDARY="${BOUNDARY:-$PWD/target/release/boundary}"
OUT="$PWD/target/bench/eval"
[ -x "$BOUNDARY" ] || { echo "no $BOUNDARY: cargo build --release -p boundary" >&2; exit 1; }
rm -rf "$OUT" && mkdir -p "$OUT"

python3 - "$PROBLEMS" "$N" "$OUT/samples.jsonl" <<'PY'
import json, random, sys
problems, n, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
rows = [json.loads(l) for l in open("data/math500/test.jsonl")]
rng = random.Random(0)
with open(out, "w") as f:
    for model, skill in (("base", 0.35), ("rl", 0.55)):
        for p in range(problems):
            row = rows[p % len(rows)]
            gold = row["answer"]
            accuracy = min(1.0, max(0.0, rng.gauss(skill, 0.35)))
            for i in range(n):
                right = rng.random() < accuracy
                answer = gold if right else "-1"
                response = (f"Let us work through problem {p} step by step. "
                            "First we simplify the expression and collect terms. " * 8
                            + f"So the final answer is $\\boxed{{{answer}}}$.")
                f.write(json.dumps({"model": model, "benchmark": "math500", "problem_id": f"p{p}",
                                    "sample_index": i, "response": response, "gold": gold}) + "\n")
PY
lines=$(wc -l < "$OUT/samples.jsonl")
size=$(du -h "$OUT/samples.jsonl" | cut -f1)

t() { local start end; start=$(date +%s.%N); "$@" > /dev/null 2>&1; end=$(date +%s.%N); python3 -c "print(f'{$end - $start:.2f}')"; }
import_s=$(t "$BOUNDARY" import --store "$OUT/run.db" --input "$OUT/samples.jsonl")
grade_s=$(t "$BOUNDARY" grade --store "$OUT/run.db")
regrade_s=$(t "$BOUNDARY" grade --store "$OUT/run.db")
report_s=$(t "$BOUNDARY" report --store "$OUT/run.db" --out "$OUT/report")
report2_s=$(t "$BOUNDARY" report --store "$OUT/run.db" --out "$OUT/report2")
files=$(find "$OUT/report" -type f | wc -l)

cat <<EOF
machine: $(nproc) cores, $(uname -m); boundary $("$BOUNDARY" --version | cut -d' ' -f2)
store: 2 models x $PROBLEMS problems x $N samples = $lines samples ($size JSONL)

| stage | command | wall s |
|---|---|---|
| import | boundary import --store run.db --input samples.jsonl | $import_s |
| grade (math verifier) | boundary grade --store run.db | $grade_s |
| grade again (nothing left) | boundary grade --store run.db | $regrade_s |
| report ($files files) | boundary report --store run.db --out report | $report_s |
| report again | boundary report --store run.db --out report2 | $report2_s |
EOF
