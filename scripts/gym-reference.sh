#!/usr/bin/env bash
# Regenerates the Gymnasium reference rollouts that the conformance tests replay:
# classic control (plugins/classic-control/tests/data/) and MuJoCo v5
# (plugins/mujoco/tests/data/). Installs Gymnasium, NumPy and MuJoCo's Python bindings into a
# project-local, git-ignored virtual environment (.deps/gym-venv) on first use; later runs
# reuse it. The MuJoCo wheel carries the same libmujoco 3.17.0 that scripts/setup-mujoco.sh
# installs for the Rust side.
set -euo pipefail
cd "$(dirname "$0")/.."

GYMNASIUM_VERSION=1.4.0
NUMPY_VERSION=2.4.6
MUJOCO_VERSION=3.17.0
venv=.deps/gym-venv
if ! "$venv/bin/python" -c "import gymnasium, numpy, mujoco, sys; sys.exit(gymnasium.__version__ != '$GYMNASIUM_VERSION' or numpy.__version__ != '$NUMPY_VERSION' or mujoco.__version__ != '$MUJOCO_VERSION')" 2>/dev/null; then
    python3 -m venv "$venv"
    # imageio and packaging: imported by gymnasium.envs.mujoco even without rendering.
    "$venv/bin/pip" install --quiet "gymnasium==$GYMNASIUM_VERSION" "numpy==$NUMPY_VERSION" \
        "mujoco==$MUJOCO_VERSION" "imageio==2.38.1" "packaging==26.4"
fi
"$venv/bin/python" scripts/gym-reference/generate.py plugins/classic-control/tests/data
"$venv/bin/python" scripts/gym-reference/generate_mujoco.py plugins/mujoco/tests/data
