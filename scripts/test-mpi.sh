#!/usr/bin/env bash
# The MPI part of the test suite (scripts/test.sh runs it): installs Open MPI if needed, builds
# angora with the `mpi` feature into its own target directory (target/mpi, so the default
# build stays free of MPI) and runs the tests that start `mpirun -n 2`.
set -euo pipefail
cd "$(dirname "$0")/.."

# MuJoCo 3.17.0 and the MJCF assets (idempotent; a no-op once installed): the workspace's
# MuJoCo plugin links against them.
bash scripts/setup-mujoco.sh
bash scripts/setup-mpi.sh
export CARGO_TARGET_DIR=target/mpi

echo "== lints (mpi feature)"
cargo clippy --workspace --all-targets --features angora-host/mpi,angora-tests/mpi -- -D warnings

echo "== build (mpi feature)"
# --all-targets: the same feature resolution as `cargo test --workspace` below, so the
# dependencies are built once.
cargo build --workspace --all-targets --features angora-host/mpi,angora-tests/mpi

echo "== tests under mpirun"
cargo test --workspace --features angora-host/mpi,angora-tests/mpi --test integration -- mpi::
