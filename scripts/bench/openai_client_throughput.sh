#!/usr/bin/env bash
# Client throughput: Boundary's OpenAI client vs Python's `openai` AsyncOpenAI, both driving
# the same instant test server (boundary-testserver) on loopback, in one run, alternating.
# The server answers at once, so what is measured is how fast each client can issue
# requests and read their answers.
#
# Usage: scripts/bench/openai_client_throughput.sh [ROUNDS]
# Output: one JSON line per measurement, then a markdown table (medians) on stdout.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
ROUNDS="${1:-3}"
PY="$("$ROOT/scripts/bench/openai_venv.sh")"

cargo build --release --quiet --manifest-path "$ROOT/Cargo.toml" \
    -p boundary-testserver -p boundary-openai --example openai_load --bins
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}/release"

PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
"$TARGET/boundary-testserver" --port "$PORT" --max-words 16 >/dev/null &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true' EXIT
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$PORT/v1/models" >/dev/null && break; sleep 0.1; done
URL="http://127.0.0.1:$PORT/v1"

RESULTS="$(mktemp)"
run() {  # workload label, then the shared flags
    local label="$1"; shift
    for round in $(seq "$ROUNDS"); do
        "$TARGET/examples/openai_load" --endpoint "$URL" "$@" 2>/dev/null \
            | sed "s/^{/{\"workload\":\"$label\",\"round\":$round,/" | tee -a "$RESULTS"
        "$PY" "$ROOT/scripts/bench/openai_python_client.py" --endpoint "$URL" "$@" \
            | sed "s/^{/{\"workload\":\"$label\",\"round\":$round,/" | tee -a "$RESULTS"
    done
}
# n=16 per request: samples/s. n=1 per request: the request rate itself.
run "n16" --problems 4000 --n 16 --chunk-size 16 --max-in-flight 64 --max-tokens 16
run "n1" --problems 20000 --n 1 --chunk-size 1 --max-in-flight 64 --max-tokens 16

python3 - "$RESULTS" <<'PYCODE'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
print()
print("| workload | client | requests/s (median) | samples/s (median) | rounds |")
print("|---|---|---|---|---|")
for workload in dict.fromkeys(r["workload"] for r in rows):
    med = {}
    for client in ("boundary", "python-openai"):
        sel = [r for r in rows if r["workload"] == workload and r["client"] == client]
        med[client] = (statistics.median(r["requests_per_s"] for r in sel),
                       statistics.median(r["samples_per_s"] for r in sel), len(sel))
        print(f"| {workload} | {client} | {med[client][0]:,.0f} | {med[client][1]:,.0f} | {med[client][2]} |")
    print(f"| {workload} | **ratio** | **{med['boundary'][0] / med['python-openai'][0]:.1f}x** | "
          f"**{med['boundary'][1] / med['python-openai'][1]:.1f}x** | |")
PYCODE
