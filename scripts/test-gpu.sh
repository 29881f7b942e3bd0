#!/usr/bin/env bash
# The GPU check (issue 7), kept out of scripts/test.sh because burn-wgpu adds about 30 minutes
# to a cold build on 2 cores: builds angora with the `wgpu` feature into target/wgpu and runs the
# tests that train on a Vulkan device and compare with the CPU backend. Without a GPU, Mesa's
# software Vulkan (lavapipe) is the device; this script installs it when no Vulkan driver is
# present (Debian/Ubuntu, as root or with sudo).
set -euo pipefail
cd "$(dirname "$0")/.."

# MuJoCo 3.17.0 and the MJCF assets (idempotent; a no-op once installed): the workspace's
# MuJoCo plugin links against them.
bash scripts/setup-mujoco.sh

if ! compgen -G "/usr/share/vulkan/icd.d/*.json" >/dev/null && ! compgen -G "/etc/vulkan/icd.d/*.json" >/dev/null; then
    sudo=""
    [ "$(id -u)" -ne 0 ] && sudo=sudo
    echo "test-gpu: no Vulkan driver found; installing Mesa's (mesa-vulkan-drivers)" >&2
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq mesa-vulkan-drivers >/dev/null
fi
export CARGO_TARGET_DIR=target/wgpu
# Silences a warning of Mesa's when no desktop session set this.
export XDG_RUNTIME_DIR=${XDG_RUNTIME_DIR:-/tmp}

echo "== lints (wgpu feature)"
cargo clippy -p angora-host -p angora-tests --all-targets --features angora-host/wgpu,angora-tests/wgpu -- -D warnings

echo "== build (wgpu feature)"
# --all-targets: the same feature resolution as `cargo test --workspace` below, so the
# dependencies are built once.
cargo build --workspace --all-targets --features angora-host/wgpu,angora-tests/wgpu

echo "== tests on the wgpu backend"
cargo test --workspace --features angora-host/wgpu,angora-tests/wgpu --test integration -- gpu::
