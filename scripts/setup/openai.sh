#!/usr/bin/env bash
# Everything the OpenAI-backend tests (crates/boundary-openai, `boundary sample --endpoint`)
# need on a fresh machine: the SmolLM2 test model, llama.cpp's llama-server and the
# llama-cpp-python server. Idempotent; about 8 minutes the first time on 2 cores, instant
# afterwards.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CACHE="${BOUNDARY_CACHE:-$HOME/.cache/boundary}"
MODEL="$CACHE/models/SmolLM2-135M-Instruct.Q4_1.gguf"

"$HERE/model.sh" >&2
"$HERE/llama-server.sh" >/dev/null
"$HERE/llama-cpp-python.sh" >/dev/null
echo "model: $MODEL"
echo "llama-server: $CACHE/bin/llama-server"
echo "llama-cpp-python: $CACHE/venv-llama/bin/python"
