#!/usr/bin/env bash
# pandas, pyarrow and polars, to check in the tests that exports open where users
# analyse them. Creates $BOUNDARY_CACHE/venv-analysis.
set -euo pipefail
source "$(dirname "$0")/common.sh"
make_venv analysis 'pandas==2.*' 'pyarrow>=15' 'polars>=1'
