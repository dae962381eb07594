#!/usr/bin/env bash
# ~/.cache/boundary/venv-openaibench: Python's `openai` client, the reference in the client
# throughput benchmark. Idempotent. Prints the venv's python.
set -euo pipefail
CACHE="${BOUNDARY_CACHE:-$HOME/.cache/boundary}"
VENV="$CACHE/venv-openaibench"
if ! "$VENV/bin/python" -c "import openai, httpx" 2>/dev/null; then
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet --upgrade pip >&2
    "$VENV/bin/pip" install --quiet 'openai>=1.50,<3' >&2
fi
echo "$VENV/bin/python"
