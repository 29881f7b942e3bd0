#!/usr/bin/env bash
# The main job, end to end on the CPU: build the host and the shipped plugins, list what was
# found, and run CartPole-v1 episodes through the plugin boundary.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build --release --workspace
target/release/angora plugins
target/release/angora eval --task CartPole-v1 --policy random --episodes 100 --seed 0
