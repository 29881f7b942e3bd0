#!/usr/bin/env bash
# Trains the classic-control benchmarks with 3 seeds each and evaluates every run over 100
# episodes with the deterministic policy of its final (last) checkpoint. Prints one line per run and
# writes runs/results/<task>-s<seed>/ (a run directory each) plus runs/results/summary.jsonl.
#
# Usage: scripts/learning-results.sh [TASK ...]   (default: all classic tasks)
# The exact command of every run is printed; docs/results.md quotes them.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --workspace --quiet
angora=target/release/angora
out=runs/results
mkdir -p "$out"

# task | steps | extra training flags
declare -A STEPS=(
  [CartPole-v1]=100000
  [Acrobot-v1]=300000
  [MountainCar-v0]=1000000
  [MountainCarContinuous-v0]=300000
  [Pendulum-v1]=500000
)
declare -A FLAGS=(
  [CartPole-v1]=""
  [Acrobot-v1]=""
  [MountainCar-v0]=""
  [MountainCarContinuous-v0]=""
  [Pendulum-v1]="--distribution beta"
)
tasks=("$@")
[ ${#tasks[@]} -eq 0 ] && tasks=(CartPole-v1 Acrobot-v1 MountainCar-v0 MountainCarContinuous-v0 Pendulum-v1)
for task in "${tasks[@]}"; do
  for seed in 1 2 3; do
    dir="$out/$task-s$seed"
    rm -rf "$dir"
    cmd="$angora -q train --task $task --steps ${STEPS[$task]} --seed $seed ${FLAGS[$task]} --out $dir"
    echo "\$ $cmd"
    start=$(date +%s.%N)
    $cmd
    end=$(date +%s.%N)
    eval_json=$($angora -q eval "$dir" --checkpoint last --episodes 100 --seed 1000 --json)
    mean=$(echo "$eval_json" | python3 -c 'import json,sys; print(round(json.load(sys.stdin)["mean_return"], 2))')
    secs=$(python3 -c "print(round($end - $start, 1))")
    echo "$task seed $seed: mean return over 100 episodes $mean (training $secs s)"
    python3 - "$task" "$seed" "${STEPS[$task]}" "$secs" "$cmd" <<PY >> "$out/summary.jsonl"
import json, sys
report = json.loads('''$eval_json''')
task, seed, steps, secs, cmd = sys.argv[1:]
print(json.dumps({"task": task, "seed": int(seed), "steps": int(steps), "train_seconds": float(secs),
                  "command": cmd, "mean_return": report["mean_return"], "std_return": report["std_return"]}))
PY
  done
done
