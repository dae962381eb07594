# Sourced (not run) by scripts/test and .ci/run after scripts/setup/test-deps.sh: puts the build
# tools that build-tools.sh installed from PyPI (when apt was not available) on PATH for cargo.
build_tools_env="${BOUNDARY_CACHE:-$HOME/.cache/boundary}/build-tools.env"
if [ -f "$build_tools_env" ]; then
    . "$build_tools_env"
fi
unset build_tools_env
