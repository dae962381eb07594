#!/usr/bin/env bash
# Installs everything the test suite needs that a fresh machine (Rust toolchain, gcc,
# Python 3, pip) lacks. Each script is idempotent and caches under $BOUNDARY_CACHE, so a
# second run takes seconds. The first run takes about 25 minutes on 2 cores, most of it
# compiling llama.cpp three times (llama-server, llama-cpp-python for the local CPU, and
# llama-cpp-python with the engine's CPU kernels: the references the backends are tested
# against).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
"$here/analysis.sh"          # pandas/polars/pyarrow: exports open where users analyse them
"$here/build-tools.sh"       # cmake + libclang: building the embedded backend (llama.cpp)
"$here/model.sh"             # SmolLM2-135M-Instruct GGUF, the real model of every backend test
"$here/openai.sh" >/dev/null # llama-server and llama-cpp-python's server: the HTTP backend's peers
"$here/engine-test-data.sh"  # llama.cpp's own tokens, logits and perplexities, for the engine
