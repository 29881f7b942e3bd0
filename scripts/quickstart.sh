#!/usr/bin/env bash
# The main job, end to end on the CPU: build the host and the shipped plugins, train PPO on
# CartPole-v1 for 100k steps (about 6 s on 2 cores), and evaluate the trained policy over
# 100 episodes.
set -euo pipefail
cd "$(dirname "$0")/.."

# MuJoCo 3.17.0 and the MJCF assets (idempotent; a no-op once installed): the workspace's
# MuJoCo plugin links against them.
bash scripts/setup-mujoco.sh

cargo build --release --workspace
run_dir="runs/quickstart-$(date -u +%Y%m%d-%H%M%S)"
target/release/angora train --task CartPole-v1 --steps 100000 --seed 0 --out "$run_dir"
target/release/angora eval "$run_dir" --episodes 100
