#!/usr/bin/env bash
# Side-by-side wall-clock comparison with Stable-Baselines3's PPO on CartPole-v1, 100k steps,
# identical hyperparameters (Angora's `cartpole` preset), same machine, 3 seeds each. Not part
# of the test suite: it installs SB3 and PyTorch (large) into .deps/sb3-venv on first use.
set -euo pipefail
cd "$(dirname "$0")/.."

venv=.deps/sb3-venv
if ! "$venv/bin/python" -c "import stable_baselines3" 2>/dev/null; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet "stable-baselines3==2.9.2" "gymnasium==1.4.0"
fi
cargo build --release --workspace --quiet

for seed in 1 2 3; do
    "$venv/bin/python" scripts/sb3/train_cartpole.py "$seed"
done
for seed in 1 2 3; do
    dir=$(mktemp -d)/run
    start=$(date +%s.%N)
    target/release/angora -q train --task CartPole-v1 --steps 100000 --seed "$seed" --out "$dir" > /dev/null
    end=$(date +%s.%N)
    mean=$(target/release/angora -q eval "$dir" --checkpoint last --episodes 100 --seed $((1000 + seed)) --json \
        | python3 -c 'import json,sys; print(json.load(sys.stdin)["mean_return"])')
    python3 -c "import json; print(json.dumps({'framework': 'angora', 'seed': $seed, 'seconds': $end - $start, 'mean_return': $mean}))"
done
