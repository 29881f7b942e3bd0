#!/usr/bin/env bash
# Trains the learning benchmarks with 3 seeds each and evaluates every run over 100 episodes
# with the deterministic policy of its final (last) checkpoint. Prints one line per run and
# writes runs/results/<experiment>-s<seed>/ (a run directory each) plus
# runs/results/summary.jsonl.
#
# Usage: scripts/learning-results.sh [EXPERIMENT ...]   (default: all of them)
# The exact command of every run is printed; docs/results.md quotes them.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-mujoco.sh
cargo build --release --workspace --quiet
angora=target/release/angora
out=runs/results
mkdir -p "$out"

# experiment -> "task|steps|extra training flags"
declare -A EXPERIMENTS=(
  # Feed-forward on the full observations (issue 3).
  [CartPole-v1]="CartPole-v1|100000|"
  [Acrobot-v1]="Acrobot-v1|300000|"
  [MountainCar-v0]="MountainCar-v0|1000000|"
  [MountainCarContinuous-v0]="MountainCarContinuous-v0|300000|"
  [Pendulum-v1]="Pendulum-v1|500000|--distribution beta"
  # Velocity-free observations: feed-forward against recurrent (issue 4). The recurrent
  # Pendulum runs use 32 environments of 128 steps per cycle (the same 4096 transitions as the
  # pendulum_beta preset) so that a minibatch of 512 holds 4 whole trajectories.
  [CartPoleNoVel-v1]="CartPoleNoVel-v1|100000|"
  [CartPoleNoVel-v1-gru]="CartPoleNoVel-v1|100000|--preset cartpole_recurrent --model simple-gru"
  [PendulumNoVel-v1]="PendulumNoVel-v1|500000|--distribution beta"
  [PendulumNoVel-v1-gru]="PendulumNoVel-v1|500000|--distribution beta --model simple-gru --set gather.envs_per_worker=32 --set gather.horizon=128"
  [PendulumNoVel-v1-gru-1m]="PendulumNoVel-v1|1000000|--distribution beta --model simple-gru --set gather.envs_per_worker=32 --set gather.horizon=128"
  # MuJoCo v5 (issue 5): 1M steps each with the recommended preset for -v5 tasks
  # (mujoco_beta: AngoraPy's mujoco preset with the Beta distribution; for
  # InvertedDoublePendulum the inverted_double_pendulum preset).
  [HalfCheetah-v5]="HalfCheetah-v5|1000000|"
  [Hopper-v5]="Hopper-v5|1000000|"
  [Walker2d-v5]="Walker2d-v5|1000000|"
  [InvertedPendulum-v5]="InvertedPendulum-v5|1000000|"
  [InvertedDoublePendulum-v5]="InvertedDoublePendulum-v5|1000000|"
  # How the inverted_double_pendulum preset was found: mujoco_beta's constant learning rate
  # lets the solved task fall back to occasional falls; a linearly decaying rate with 8
  # environments per cycle holds it better; minibatches of 256 on top make the preset.
  [InvertedDoublePendulum-v5-mujoco_beta]="InvertedDoublePendulum-v5|1000000|--preset mujoco_beta"
  [InvertedDoublePendulum-v5-linear]="InvertedDoublePendulum-v5|1000000|--preset mujoco_beta --set ppo.lr_schedule=linear --set gather.envs_per_worker=8 --set gather.horizon=256"
  [Ant-v5]="Ant-v5|1000000|"
  [Reacher-v5]="Reacher-v5|1000000|"
  [Swimmer-v5]="Swimmer-v5|1000000|"
  # Shadow hand (issue 6): a recurrent policy (GRU) with the Beta distribution; 16 episodes of
  # 100 steps per cycle (horizon 128 keeps whole episodes in TBPTT chunks of 16).
  [ReachAbsolute-v0-gru]="ReachAbsolute-v0|1000000|--preset mujoco_beta --model simple-gru --set gather.envs_per_worker=16 --set gather.horizon=128"
  # In-hand manipulation with 11 discrete bins per actuator and the shadow-small brain model.
  [ManipulateBlockDiscrete-v0-shadow]="ManipulateBlockDiscrete-v0|300000|--preset mujoco --distribution multi-categorical --model shadow-small --set gather.envs_per_worker=16 --set gather.horizon=128"
  [ManipulateBlockDiscrete-v0-shadow-1m]="ManipulateBlockDiscrete-v0|1000000|--preset mujoco --distribution multi-categorical --model shadow-small --set gather.envs_per_worker=16 --set gather.horizon=128"
  # The same with an entropy bonus (exploration of the 20 x 11 choices) and the goal quaternion
  # re-coded as a rotation matrix.
  [ManipulateBlockDiscrete-v0-shadow-entropy]="ManipulateBlockDiscrete-v0|1000000|--preset mujoco --distribution multi-categorical --model shadow-small --sensation goal --set ppo.entropy_coef=0.01 --set gather.envs_per_worker=16 --set gather.horizon=128"
  # The goal re-coded as the rotation still to go (examples/configs/manipulate-relative-goal.toml)
  # with the feed-forward `simple` model, which trains about 10x faster than shadow-small here.
  # -e4: 4 epochs of minibatches of 512 on 2 x 8 x 256 steps and an entropy bonus of 0.01, run
  # to 3M steps and then extended with `angora resume RUN_DIR --steps 22000000` (docs/results.md).
  # Without -e4: 10 epochs of minibatches of 1024 on 2 x 16 x 256 steps, entropy bonus 0.001.
  [ManipulateBlockDiscrete-v0-relative-e4]="ManipulateBlockDiscrete-v0|3000000|examples/configs/manipulate-relative-goal.toml --preset mujoco --distribution multi-categorical --model simple --workers 2 --set gather.envs_per_worker=8 --set gather.horizon=256 --set ppo.minibatch_size=512 --set ppo.epochs=4 --set ppo.entropy_coef=0.01"
  [ManipulateBlockDiscrete-v0-relative]="ManipulateBlockDiscrete-v0|7000000|examples/configs/manipulate-relative-goal.toml --preset mujoco --distribution multi-categorical --model simple --workers 2 --set gather.envs_per_worker=16 --set gather.horizon=256 --set ppo.minibatch_size=1024 --set ppo.epochs=10 --set ppo.entropy_coef=0.001"
)
ORDER=(CartPole-v1 Acrobot-v1 MountainCar-v0 MountainCarContinuous-v0 Pendulum-v1
  CartPoleNoVel-v1 CartPoleNoVel-v1-gru PendulumNoVel-v1 PendulumNoVel-v1-gru
  PendulumNoVel-v1-gru-1m HalfCheetah-v5 Hopper-v5 Walker2d-v5 InvertedPendulum-v5
  InvertedDoublePendulum-v5 InvertedDoublePendulum-v5-mujoco_beta
  InvertedDoublePendulum-v5-linear Ant-v5 Reacher-v5 Swimmer-v5 ReachAbsolute-v0-gru
  ManipulateBlockDiscrete-v0-shadow ManipulateBlockDiscrete-v0-shadow-1m
  ManipulateBlockDiscrete-v0-shadow-entropy ManipulateBlockDiscrete-v0-relative-e4
  ManipulateBlockDiscrete-v0-relative)
experiments=("$@")
[ ${#experiments[@]} -eq 0 ] && experiments=("${ORDER[@]}")
for name in "${experiments[@]}"; do
  spec=${EXPERIMENTS[$name]:-}
  if [ -z "$spec" ]; then
    echo "unknown experiment '$name'; known: ${ORDER[*]}" >&2
    exit 2
  fi
  IFS='|' read -r task steps flags <<<"$spec"
  # SEEDS="1" runs one seed, so that seeds can run side by side in separate invocations.
  for seed in ${SEEDS:-1 2 3}; do
    dir="$out/$name-s$seed"
    rm -rf "$dir"
    cmd="$angora -q train --task $task --steps $steps --seed $seed $flags --out $dir"
    echo "\$ $cmd"
    start=$(date +%s.%N)
    $cmd
    end=$(date +%s.%N)
    eval_json=$($angora -q eval "$dir" --checkpoint last --episodes 100 --seed 1000 --json)
    mean=$(echo "$eval_json" | python3 -c 'import json,sys; r=json.load(sys.stdin); print(round(r["mean_return"], 2), " ".join(f"{k} {v:.3f}" for k, v in r.get("metrics", {}).items()))')
    secs=$(python3 -c "print(round($end - $start, 1))")
    echo "$name seed $seed: mean return over 100 episodes $mean (training $secs s)"
    python3 - "$name" "$task" "$seed" "$steps" "$secs" "$cmd" <<PY >> "$out/summary.jsonl"
import json, sys
report = json.loads('''$eval_json''')
name, task, seed, steps, secs, cmd = sys.argv[1:]
print(json.dumps({"experiment": name, "task": task, "seed": int(seed), "steps": int(steps),
                  "train_seconds": float(secs), "command": cmd,
                  "mean_return": report["mean_return"], "std_return": report["std_return"],
                  "metrics": report.get("metrics", {})}))
PY
  done
done
