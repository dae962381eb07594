#!/usr/bin/env bash
# Installs everything the test suite needs that a fresh machine (Rust toolchain, gcc,
# Python 3, pip) lacks. Each script is idempotent and caches under $BOUNDARY_CACHE.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
"$here/analysis.sh"
