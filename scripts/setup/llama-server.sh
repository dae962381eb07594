#!/usr/bin/env bash
# Builds llama.cpp's `llama-server` (continuous batching, honours `n`, the closest local
# stand-in for vLLM) from the llama.cpp tree vendored in the llama-cpp-python sdist on PyPI,
# and caches the binary at ~/.cache/boundary/bin/llama-server.
#
# Idempotent: a second run finds the cached binary and exits at once. Needs only Python 3 +
# pip, gcc/g++ and network access to PyPI (cmake comes from PyPI, not apt). About 4 minutes
# of wall time on 2 cores.
#
# Usage: scripts/setup/llama-server.sh            # prints the binary's path on success
#        BOUNDARY_CACHE=/some/dir scripts/setup/llama-server.sh
set -euo pipefail

LLAMA_CPP_PYTHON_VERSION=0.3.36
CACHE="${BOUNDARY_CACHE:-$HOME/.cache/boundary}"
BIN_DIR="$CACHE/bin"
BINARY="$BIN_DIR/llama-server"
STAMP="$BIN_DIR/llama-server.version"
BUILD_ROOT="$CACHE/build/llama-server-$LLAMA_CPP_PYTHON_VERSION"
TOOLS_VENV="$CACHE/venv-buildtools"
JOBS="${JOBS:-$(nproc)}"

if [[ -x "$BINARY" && -f "$STAMP" && "$(cat "$STAMP")" == "$LLAMA_CPP_PYTHON_VERSION" ]]; then
    echo "$BINARY"
    exit 0
fi

log() { echo "[llama-server setup] $*" >&2; }

# cmake from PyPI keeps the script free of apt; the venv is shared by every build script.
if [[ ! -x "$TOOLS_VENV/bin/cmake" ]]; then
    log "installing cmake into $TOOLS_VENV"
    python3 -m venv "$TOOLS_VENV"
    "$TOOLS_VENV/bin/pip" install --quiet 'cmake>=3.25,<4'
fi

mkdir -p "$BUILD_ROOT"
SDIST_DIR="$BUILD_ROOT/sdist"
SOURCE_DIR="$BUILD_ROOT/llama_cpp_python-$LLAMA_CPP_PYTHON_VERSION"
if [[ ! -d "$SOURCE_DIR/vendor/llama.cpp" ]]; then
    log "downloading the llama-cpp-python $LLAMA_CPP_PYTHON_VERSION sdist (about 77 MB)"
    python3 -m pip download --quiet --no-deps --no-binary llama-cpp-python \
        "llama-cpp-python==$LLAMA_CPP_PYTHON_VERSION" -d "$SDIST_DIR"
    tar -xzf "$SDIST_DIR/llama_cpp_python-$LLAMA_CPP_PYTHON_VERSION.tar.gz" -C "$BUILD_ROOT"
fi

LLAMA_DIR="$SOURCE_DIR/vendor/llama.cpp"
log "configuring llama.cpp in $LLAMA_DIR"
# OpenMP off: an OpenMP build degrades when called from changing threads (measured, see
# docs/benchmarks/openai.md); the server's own thread pool is used instead.
"$TOOLS_VENV/bin/cmake" -S "$LLAMA_DIR" -B "$LLAMA_DIR/build" \
    -DCMAKE_BUILD_TYPE=Release \
    -DLLAMA_CURL=OFF \
    -DLLAMA_BUILD_SERVER=ON \
    -DLLAMA_BUILD_TESTS=OFF \
    -DLLAMA_BUILD_EXAMPLES=OFF \
    -DGGML_OPENMP=OFF \
    -DBUILD_SHARED_LIBS=OFF >&2
log "building llama-server with $JOBS jobs"
"$TOOLS_VENV/bin/cmake" --build "$LLAMA_DIR/build" --target llama-server -j "$JOBS" >&2

mkdir -p "$BIN_DIR"
install -m 0755 "$LLAMA_DIR/build/bin/llama-server" "$BINARY.tmp"
mv "$BINARY.tmp" "$BINARY"
echo "$LLAMA_CPP_PYTHON_VERSION" > "$STAMP"
log "done"
echo "$BINARY"
