#!/usr/bin/env bash
# Prepares what boundary-engine's tests compare against: llama.cpp's own tokenization, logits
# and perplexities (through llama-cpp-python) for SmolLM2 and for tiny random Qwen2, Qwen3 and
# Llama 3 GGUFs written here with the `gguf` package.
#
# Needs the model (scripts/setup/model.sh). Builds its own llama-cpp-python 0.3.36 into
# ~/.cache/boundary/venv-llama-reference (5 to 10 minutes on 2 cores, once), with the CPU kernels
# the engine's llama.cpp has: llama-cpp-sys-2 builds ggml with GGML_NATIVE=OFF, whose defaults
# are AVX2, FMA, F16C, BMI2 and SSE4.2 and no AVX-512, while pip's default build
# (venv-llama, kept native for the speed benchmarks) compiles for the local CPU. The same
# llama.cpp code built for AVX-512 and for AVX2 disagrees on SmolLM2's top-1 token at 2.7% of
# positions (logits up to 1.15 apart); built alike, its logits and ours are bit-identical
# (docs/benchmarks/engine.md). pip's wheel cache is bypassed: it does not key wheels on build
# options, so it could hand back the native wheel.
# Then writes ~/.cache/boundary/engine-test-data/ (a few minutes on 2 cores, most of it
# llama.cpp scoring the first 40 MATH500 solutions).
# Idempotent: skips the work when the output for these inputs exists.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
. "$here/common.sh"
out="$BOUNDARY_CACHE/engine-test-data"
model="$BOUNDARY_CACHE/models/SmolLM2-135M-Instruct.Q4_1.gguf"
math500="$repo/crates/boundary-engine/tests/data/math500.jsonl"

"$here/model.sh"

# The output is tied to the scripts (including the reference build below) and inputs that made it.
stamp="$(cat "$here/engine-test-data.sh" "$here/engine_test_data.py" "$math500" | sha256sum | cut -c1-16)"
if [[ -f "$out/.stamp" && "$(cat "$out/.stamp")" == "$stamp" ]]; then
    echo "engine-test-data: $out is up to date"
    exit 0
fi

# Without OpenMP, as venv-llama and the engine's own build.
make_venv llama-reference --no-cache-dir \
    --config-settings=cmake.args="-DGGML_NATIVE=OFF;-DGGML_OPENMP=OFF" \
    "llama-cpp-python==0.3.36" "gguf==0.19.0" "numpy>=1.26"
python="$BOUNDARY_CACHE/venv-llama-reference/bin/python"

rm -rf "$out.partial"
"$python" "$here/engine_test_data.py" "$model" "$math500" "$out.partial"
echo "$stamp" >"$out.partial/.stamp"
rm -rf "$out"
mv "$out.partial" "$out"
echo "engine-test-data: wrote $out"
