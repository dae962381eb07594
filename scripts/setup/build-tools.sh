#!/usr/bin/env bash
# Installs what the embedded backend (crates/boundary-engine) needs to build beyond the Rust
# toolchain and gcc: cmake (llama.cpp's build system) and libclang (bindgen generates the
# llama.cpp bindings from its C headers).
#
# Idempotent: does nothing when both are already usable.
#   - as root with apt: `apt-get install cmake libclang-dev` (the Debian packages);
#   - otherwise: the `cmake` and `libclang` wheels from PyPI in ~/.cache/boundary/venv-build-tools,
#     and writes ~/.cache/boundary/build-tools.env, which you `source` before `cargo build`.
#
# Building without the embedded backend needs none of this:
#   cargo build -p boundary --no-default-features
set -euo pipefail

. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/common.sh"
cache="$BOUNDARY_CACHE"
env_file="$cache/build-tools.env"

have_cmake() { command -v cmake >/dev/null 2>&1; }
have_libclang() {
    if [[ -n "${LIBCLANG_PATH:-}" ]] && compgen -G "$LIBCLANG_PATH/libclang*.so*" >/dev/null; then
        return 0
    fi
    # bindgen looks where the loader looks, plus llvm-config's libdir.
    ldconfig -p 2>/dev/null | grep -q 'libclang\(-[0-9.]*\)\?\.so' && return 0
    compgen -G "/usr/lib/llvm-*/lib/libclang.so*" >/dev/null || compgen -G "/usr/lib/llvm-*/lib/libclang-[0-9]*.so*" >/dev/null
}

if have_cmake && have_libclang; then
    echo "build-tools: cmake and libclang already present"
    exit 0
fi

if [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null 2>&1; then
    echo "build-tools: installing cmake and libclang-dev with apt"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends cmake libclang-dev >/dev/null
    have_cmake && have_libclang && { echo "build-tools: done"; exit 0; }
    echo "build-tools: apt finished but cmake or libclang is still missing" >&2
    exit 1
fi

echo "build-tools: no root/apt; installing the cmake and libclang wheels from PyPI"
make_venv build-tools cmake libclang
venv="$cache/venv-build-tools"
libclang_dir="$("$venv/bin/python" -c 'import clang, os; print(os.path.join(os.path.dirname(clang.__file__), "native"))')"
cat >"$env_file" <<EOF
# Written by scripts/setup/build-tools.sh: source this before building the embedded backend.
export PATH="$venv/bin:\$PATH"
export LIBCLANG_PATH="$libclang_dir"
EOF
echo "build-tools: done. Before cargo build, run:  source $env_file"
