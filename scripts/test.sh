#!/usr/bin/env bash
# The whole test suite: formatting, lints, build, unit and integration tests, and the MPI
# variant under mpirun. CI runs exactly this (see .ci/run). Needs a Rust toolchain; installs
# Open MPI and libclang (scripts/setup-mpi.sh) and libEGL with Mesa (scripts/setup-egl.sh) with
# apt when they are missing. The GPU check
# is a separate command, scripts/test-gpu.sh (burn-wgpu takes about 30 minutes to build).
set -euo pipefail
cd "$(dirname "$0")/.."

# MuJoCo 3.17.0 and the MJCF assets (idempotent; a no-op once installed): the workspace's
# MuJoCo plugin links against them.
bash scripts/setup-mujoco.sh
# libEGL and Mesa for the hand tasks' camera vision, which the tests render (idempotent).
bash scripts/setup-egl.sh

# A cold run leaves about 5 GB in target/ (measured on a clean clone); say so up front rather
# than fail with "No space left on device" twenty minutes in. A warning only: a warm target/
# needs far less.
mkdir -p target
free_gb=$(df -P -BG target | awk 'NR == 2 { sub("G", "", $4); print $4 }')
if [ "${free_gb:-0}" -lt 6 ]; then
    echo "warning: only ${free_gb} GB free on the disk that holds target/; a cold run of the" \
        "test suite needs about 5 GB" >&2
fi

echo "== formatting"
cargo fmt --all --check
cargo fmt --all --check --manifest-path tests/fixtures/Cargo.toml
cargo fmt --check --manifest-path examples/out-of-tree-plugin/Cargo.toml

echo "== lints"
cargo clippy --workspace --all-targets -- -D warnings
cargo clippy --manifest-path examples/out-of-tree-plugin/Cargo.toml --target-dir target/external -- -D warnings

echo "== build (the integration tests use the built binary and plugin libraries)"
cargo build --workspace --all-targets

echo "== tests"
cargo test --workspace

echo "== host unit tests on the second CPU backend (ndarray; the recurrent cells must agree with flex)"
cargo test -p angora-host --features ndarray --lib

echo "== MPI: the mpi feature built into target/mpi, tests under mpirun -n 2"
bash scripts/test-mpi.sh
