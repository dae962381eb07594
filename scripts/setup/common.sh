# Shared by the setup scripts: where Boundary caches what it installs.
BOUNDARY_CACHE="${BOUNDARY_CACHE:-$HOME/.cache/boundary}"
export BOUNDARY_CACHE
mkdir -p "$BOUNDARY_CACHE"

# make_venv NAME PACKAGES...: a virtual environment $BOUNDARY_CACHE/venv-NAME with the
# packages installed; skipped when a marker says the same package list is in place.
make_venv() {
    local name="$1"; shift
    local venv="$BOUNDARY_CACHE/venv-$name"
    local marker="$venv/.boundary-packages"
    if [ -f "$marker" ] && [ "$(cat "$marker")" = "$*" ]; then
        return 0
    fi
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --upgrade pip
    "$venv/bin/pip" install --quiet "$@"
    echo "$*" > "$marker"
}
