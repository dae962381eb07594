#!/usr/bin/env bash
# Prepares what boundary-engine's tests compare against: llama.cpp's own tokenization, logits
# and perplexities (through llama-cpp-python) for SmolLM2 and for tiny random Qwen2, Qwen3 and
# Llama 3 GGUFs written here with the `gguf` package.
#
# Needs the model (scripts/setup/model.sh) and llama-cpp-python 0.3.36 (scripts/setup/
# llama-cpp-python.sh: ~/.cache/boundary/venv-llama, built without OpenMP), into which it adds
# gguf and numpy; then writes ~/.cache/boundary/engine-test-data/ (a few minutes on 2 cores,
# most of it llama.cpp scoring the first 40 MATH500 solutions).
# Idempotent: skips the work when the output for these inputs exists.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
. "$here/common.sh"
out="$BOUNDARY_CACHE/engine-test-data"
model="$BOUNDARY_CACHE/models/SmolLM2-135M-Instruct.Q4_1.gguf"
math500="$repo/crates/boundary-engine/tests/data/math500.jsonl"

"$here/model.sh"

# The output is tied to the script and inputs that made it.
stamp="$(cat "$here/engine_test_data.py" "$math500" | sha256sum | cut -c1-16)"
if [[ -f "$out/.stamp" && "$(cat "$out/.stamp")" == "$stamp" ]]; then
    echo "engine-test-data: $out is up to date"
    exit 0
fi

python="$("$here/llama-cpp-python.sh")"
"$python" -m pip install --quiet "gguf==0.19.0" "numpy>=1.26"

rm -rf "$out.partial"
"$python" "$here/engine_test_data.py" "$model" "$math500" "$out.partial"
echo "$stamp" >"$out.partial/.stamp"
rm -rf "$out"
mv "$out.partial" "$out"
echo "engine-test-data: wrote $out"
