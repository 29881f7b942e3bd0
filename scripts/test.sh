#!/usr/bin/env bash
# The whole test suite: formatting, lints, build, unit and integration tests.
# CI runs exactly this (see .ci/run). Needs only a Rust toolchain.
set -euo pipefail
cd "$(dirname "$0")/.."

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
