#!/usr/bin/env bash
# Create benchmarks/.venv: the peers circuit-run is measured against, and circuit-run itself
# (run.py reinstalls this checkout there whenever runner/*.py changed).
#
# micrograd and torch are benchmark-only dependencies: they live in this venv and never
# in the project's pyproject.toml. torch is pinned to 2.13.0 because pip finds that CPU
# wheel on this machine's disk; an unpinned `torch` would pull a CUDA build of several GB.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
venv="$here/.venv"
python="${PYTHON:-python3}"

if [ ! -x "$venv/bin/python" ]; then
    "$python" -m venv "$venv"
fi
pip=("$venv/bin/python" -m pip install --quiet)

"${pip[@]}" 'micrograd==0.1.0' 'torch==2.13.0' 'pyyaml>=6' numpy
"${pip[@]}" "$root"

"$venv/bin/python" - <<'PY'
import micrograd, torch, yaml
print("torch", torch.__version__, "| micrograd ok | yaml C loader:", hasattr(yaml, "CSafeLoader"))
PY
echo "ready: $venv/bin/python $here/run.py [--quick]"
