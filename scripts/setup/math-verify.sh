#!/usr/bin/env bash
# Installs Hugging Face's `math-verify` into its own virtual environment so that
# scripts/bench/math-compare.sh can compare Boundary's math verifier against it.
# Comparison only: Boundary never calls math-verify at run time.
# Idempotent: re-running checks the installed version and does nothing when it matches.
set -euo pipefail

VENV="${BOUNDARY_MATHVERIFY_VENV:-$HOME/.cache/boundary/venv-mathverify}"
# Pinned so that benchmark numbers are reproducible; 0.9.0 is the version the
# research notes measured. The extra selects the ANTLR runtime its grammar needs.
MATH_VERIFY_VERSION="0.9.0"

if [ -x "$VENV/bin/python" ] && "$VENV/bin/python" - "$MATH_VERIFY_VERSION" <<'PY' 2>/dev/null
import sys
from importlib.metadata import version
sys.exit(0 if version("math-verify") == sys.argv[1] else 1)
PY
then
    echo "math-verify $MATH_VERIFY_VERSION already installed in $VENV"
    exit 0
fi

python3 -m venv "$VENV"
"$VENV/bin/pip" install --quiet --upgrade pip
"$VENV/bin/pip" install --quiet "math-verify[antlr4_13_2]==$MATH_VERIFY_VERSION"
"$VENV/bin/python" -c "import math_verify; from importlib.metadata import version; print('installed math-verify', version('math-verify'))"
