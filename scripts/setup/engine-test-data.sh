#!/usr/bin/env bash
# Prepares what boundary-engine's tests compare against: llama.cpp's own tokenization, logits
# and perplexities (through llama-cpp-python) for SmolLM2 and for tiny random Qwen2, Qwen3 and
# Llama 3 GGUFs written here with the `gguf` package.
#
# Needs the model (scripts/setup/model.sh). Installs llama-cpp-python 0.3.36 (built from source
# without OpenMP, ~4 min on 2 cores the first time; pip caches the wheel), gguf and numpy into
# ~/.cache/boundary/venv-engine, then writes ~/.cache/boundary/engine-test-data/ (about 15 min
# on 2 cores: most of it is llama.cpp scoring all 500 MATH500 solutions).
# Idempotent: skips the work when the output for these inputs exists.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
. "$here/common.sh"
venv="$BOUNDARY_CACHE/venv-engine"
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

CMAKE_ARGS="-DGGML_OPENMP=OFF" make_venv engine "llama-cpp-python==0.3.36" "gguf==0.19.0" "numpy>=1.26"

rm -rf "$out.partial"
"$venv/bin/python" "$here/engine_test_data.py" "$model" "$math500" "$out.partial"
echo "$stamp" >"$out.partial/.stamp"
rm -rf "$out"
mv "$out.partial" "$out"
echo "engine-test-data: wrote $out"
