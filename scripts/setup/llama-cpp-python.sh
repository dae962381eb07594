#!/usr/bin/env bash
# Creates ~/.cache/boundary/venv-llama: llama-cpp-python 0.3.36 with its OpenAI-compatible
# server (`python -m llama_cpp.server`), built from source without OpenMP, plus httpx.
#
# Without OpenMP because the default build degrades over time when the server calls it
# from changing threads (measured: 126 -> 89 tok/s over 48 requests; 130-133 tok/s stable
# without OpenMP). Idempotent: an existing venv with the right version is kept. About 4
# minutes of wall time on 2 cores the first time (it compiles llama.cpp).
#
# Usage: scripts/setup/llama-cpp-python.sh     # prints the venv's python on success
set -euo pipefail

VERSION=0.3.36
CACHE="${BOUNDARY_CACHE:-$HOME/.cache/boundary}"
VENV="$CACHE/venv-llama"
PY="$VENV/bin/python"

installed() {
    [[ -x "$PY" ]] && "$PY" - "$VERSION" <<'PYCODE' 2>/dev/null
import sys, importlib.metadata as m
import llama_cpp, llama_cpp.server, httpx  # noqa: F401  (the server extras are importable)
sys.exit(0 if m.version("llama-cpp-python") == sys.argv[1] else 1)
PYCODE
}

if installed; then
    echo "$PY"
    exit 0
fi

echo "[llama-cpp-python setup] building llama-cpp-python $VERSION into $VENV (a few minutes)" >&2
python3 -m venv "$VENV"
"$VENV/bin/pip" install --quiet --upgrade pip >&2
CMAKE_ARGS="-DGGML_OPENMP=OFF" "$VENV/bin/pip" install --quiet \
    "llama-cpp-python[server]==$VERSION" httpx >&2
installed || { echo "[llama-cpp-python setup] the install did not produce a working server" >&2; exit 1; }
echo "$PY"
