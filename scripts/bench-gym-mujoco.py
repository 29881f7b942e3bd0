"""Gymnasium's own step rate for the MuJoCo v5 tasks, for comparison with
`cargo bench -p angora-plugin-mujoco --bench mujoco_step` (docs/benchmarks.md).

Random actions within the control range (pre-drawn, like the Rust benchmark), resetting when
an episode ends; the best of 3 repetitions of 5000 steps per task.

Usage: .deps/gym-venv/bin/python scripts/bench-gym-mujoco.py
(scripts/gym-reference.sh creates that environment.)
"""

import time

import gymnasium as gym
import numpy as np

TASKS = [
    "HalfCheetah-v5", "Hopper-v5", "Walker2d-v5", "Swimmer-v5", "Ant-v5", "Humanoid-v5",
    "HumanoidStandup-v5", "Reacher-v5", "Pusher-v5", "InvertedPendulum-v5",
    "InvertedDoublePendulum-v5",
]
STEPS = 5000

for task in TASKS:
    env = gym.make(task)
    env.reset(seed=0)
    env.action_space.seed(0)
    actions = [env.action_space.sample() for _ in range(STEPS)]
    best = float("inf")
    for _ in range(3):
        env.reset(seed=0)
        start = time.perf_counter()
        for action in actions:
            _, _, terminated, truncated, _ = env.step(action)
            if terminated or truncated:
                env.reset()
        best = min(best, time.perf_counter() - start)
    print(f"{task:28s} {STEPS / best:10.0f} steps/s")
    env.close()
