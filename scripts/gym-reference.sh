#!/usr/bin/env bash
# Regenerates the Gymnasium reference rollouts that the classic-control conformance test
# replays (plugins/classic-control/tests/data/). Installs Gymnasium into a project-local,
# git-ignored virtual environment (.deps/gym-venv) on first use; later runs reuse it.
set -euo pipefail
cd "$(dirname "$0")/.."

GYMNASIUM_VERSION=1.4.0
NUMPY_VERSION=2.4.6
venv=.deps/gym-venv
if ! "$venv/bin/python" -c "import gymnasium, numpy, sys; sys.exit(gymnasium.__version__ != '$GYMNASIUM_VERSION' or numpy.__version__ != '$NUMPY_VERSION')" 2>/dev/null; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet "gymnasium==$GYMNASIUM_VERSION" "numpy==$NUMPY_VERSION"
fi
"$venv/bin/python" scripts/gym-reference/generate.py plugins/classic-control/tests/data
