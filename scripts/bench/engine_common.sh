# Sourced by engine.sh and scoring_weights.sh: the paths and setup both benchmarks share (the
# model, llama-cpp-python's venv with numpy for engine_llama_cpp.py, 2 threads unless
# BOUNDARY_THREADS says otherwise).
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
cache="${BOUNDARY_CACHE:-$HOME/.cache/boundary}"
model="$cache/models/SmolLM2-135M-Instruct.Q4_1.gguf"
python="$cache/venv-llama/bin/python"
export BOUNDARY_THREADS="${BOUNDARY_THREADS:-2}"

"$repo/scripts/setup/model.sh"
"$repo/scripts/setup/llama-cpp-python.sh" >/dev/null
"$python" -m pip install --quiet "numpy>=1.26"
