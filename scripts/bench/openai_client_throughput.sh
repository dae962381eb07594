#!/usr/bin/env bash
# Client throughput: Boundary's OpenAI client vs Python's `openai` AsyncOpenAI, both driving
# the same instant test server (boundary-testserver) on loopback, in one run, alternating.
# The server answers at once, so what is measured is how fast each client can issue
# requests and read their answers. A third column is the whole `boundary sample` command
# (prompt file, plan, SQLite store, one transaction per answer), to show what the store costs
# next to the client alone (`openai_load`, whose sink only counts).
#
# Usage: scripts/bench/openai_client_throughput.sh [ROUNDS]
# Output: one JSON line per measurement, then a markdown table (medians) on stdout.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
ROUNDS="${1:-3}"
PY="$("$ROOT/scripts/bench/openai_venv.sh")"

cargo build --release --quiet --manifest-path "$ROOT/Cargo.toml" \
    -p boundary-testserver -p boundary-openai --example openai_load --bins
cargo build --release --quiet --manifest-path "$ROOT/Cargo.toml" -p boundary
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}/release"

PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
"$TARGET/boundary-testserver" --port "$PORT" --max-words 16 >/dev/null &
SERVER=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$PORT/v1/models" >/dev/null && break; sleep 0.1; done
URL="http://127.0.0.1:$PORT/v1"

WORK="$(mktemp -d)"
trap 'kill $SERVER 2>/dev/null || true; rm -rf "$WORK"' EXIT
RESULTS="$WORK/results.jsonl"
label() { sed "s/^{/{\"workload\":\"$1\",\"round\":$2,/" | tee -a "$RESULTS"; }

boundary_sample() {  # label, round, problems, n, chunk size
    local prompts="$WORK/prompts-$3.jsonl" store="$WORK/run-$1-$2.db" start end
    [[ -f "$prompts" ]] || python3 -c "import json,sys
for i in range(int(sys.argv[1])):
    print(json.dumps({'id': f'p{i}', 'prompt': f'Question {i}: what is {i} plus {i}? Answer:'}))" "$3" >"$prompts"
    start="$(date +%s.%N)"
    "$TARGET/boundary" sample --endpoint "$URL" --model test-model --prompts "$prompts" --n "$4" \
        --chunk-size "$5" --max-in-flight 64 --max-tokens 16 --store "$store" -q
    end="$(date +%s.%N)"
    python3 - "$store" "$start" "$end" "$5" <<'PYCODE' | label "$1" "$2"
import json, sqlite3, sys
samples = sqlite3.connect(sys.argv[1]).execute("select count(*) from samples").fetchone()[0]
seconds = float(sys.argv[3]) - float(sys.argv[2])
requests = samples / int(sys.argv[4])
print(json.dumps({"client": "boundary-sample", "seconds": seconds, "requests": requests,
                  "samples": samples, "requests_per_s": requests / seconds,
                  "samples_per_s": samples / seconds}))
PYCODE
}

run() {  # workload label, problems, n (= chunk size: one request per problem)
    local flags=(--problems "$2" --n "$3" --chunk-size "$3" --max-in-flight 64 --max-tokens 16)
    for round in $(seq "$ROUNDS"); do
        "$TARGET/examples/openai_load" --endpoint "$URL" "${flags[@]}" 2>/dev/null | label "$1" "$round"
        "$PY" "$ROOT/scripts/bench/openai_python_client.py" --endpoint "$URL" "${flags[@]}" \
            | label "$1" "$round"
        boundary_sample "$1" "$round" "$2" "$3" "$3"
    done
}
# n=16 per request: samples/s. n=1 per request: the request rate itself.
run "n16" 4000 16
run "n1" 20000 1

python3 - "$RESULTS" <<'PYCODE'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
print()
print("| workload | client | requests/s (median) | samples/s (median) | rounds |")
print("|---|---|---|---|---|")
for workload in dict.fromkeys(r["workload"] for r in rows):
    med = {}
    for client in ("boundary", "python-openai", "boundary-sample"):
        sel = [r for r in rows if r["workload"] == workload and r["client"] == client]
        med[client] = (statistics.median(r["requests_per_s"] for r in sel),
                       statistics.median(r["samples_per_s"] for r in sel), len(sel))
        print(f"| {workload} | {client} | {med[client][0]:,.0f} | {med[client][1]:,.0f} | {med[client][2]} |")
    print(f"| {workload} | **ratio** | **{med['boundary'][0] / med['python-openai'][0]:.1f}x** | "
          f"**{med['boundary'][1] / med['python-openai'][1]:.1f}x** | |")
    print(f"| {workload} | **store cost**: boundary-sample / boundary | "
          f"**{med['boundary-sample'][0] / med['boundary'][0]:.0%}** | "
          f"**{med['boundary-sample'][1] / med['boundary'][1]:.0%}** | |")
PYCODE
