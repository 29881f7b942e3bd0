"""Record reference rollouts of Gymnasium's MuJoCo v5 tasks.

For every task: two episodes with uniformly random actions (seeded) and one with random
actions 1.5 times beyond the control range (MuJoCo clamps the controls, the control cost sees
the raw action). Each episode stores the exact qpos and qvel after the reset, the actions and
what Gymnasium returned, including the reward terms from `info`. Long episodes are recorded
for their first CAP steps only (termination is still checked at every recorded step). The
Rust conformance test (plugins/mujoco/tests/conformance.rs) replays them.

Usage: python generate_mujoco.py OUT_DIR   (run through scripts/gym-reference.sh)
"""

import json
import sys
from pathlib import Path

import gymnasium as gym
import mujoco
import numpy as np

# Task -> (recorded steps per episode at most, the reward terms kept from info).
TASKS = {
    "HalfCheetah-v5": (200, ["reward_forward", "reward_ctrl"]),
    "Hopper-v5": (200, ["reward_forward", "reward_ctrl", "reward_survive"]),
    "Walker2d-v5": (200, ["reward_forward", "reward_ctrl", "reward_survive"]),
    "Swimmer-v5": (200, ["reward_forward", "reward_ctrl"]),
    "Ant-v5": (100, ["reward_forward", "reward_ctrl", "reward_contact", "reward_survive"]),
    "Humanoid-v5": (60, ["reward_survive", "reward_forward", "reward_ctrl", "reward_contact"]),
    "HumanoidStandup-v5": (40, ["reward_linup", "reward_quadctrl", "reward_impact"]),
    "Reacher-v5": (50, ["reward_dist", "reward_ctrl"]),
    "Pusher-v5": (100, ["reward_dist", "reward_ctrl", "reward_near"]),
    "InvertedPendulum-v5": (1000, ["reward_survive"]),
    "InvertedDoublePendulum-v5": (1000, ["reward_survive", "distance_penalty", "velocity_penalty"]),
}


def exact(values):
    """Floats that round-trip exactly (for states and actions that are replayed)."""
    return [float(v) for v in np.asarray(values, dtype=np.float64).ravel()]


def rounded(values):
    """Floats to 12 significant digits (for what is compared within a tolerance)."""
    return [float(f"{v:.12g}") for v in np.asarray(values, dtype=np.float64).ravel()]


def record(task, policy_name, scale, seed, cap, terms):
    env = gym.make(task)
    obs, _ = env.reset(seed=seed)
    env.action_space.seed(seed)
    data = env.unwrapped.data
    episode = {
        "policy": policy_name,
        "seed": seed,
        "initial_state": exact(np.concatenate([data.qpos, data.qvel])),
        "initial_observation": rounded(obs),
        "actions": [],
        "observations": [],
        "rewards": [],
        "terminated": [],
        "truncated": [],
        "metrics": {name: [] for name in terms},
    }
    done = False
    while not done and len(episode["actions"]) < cap:
        action = (env.action_space.sample() * np.float32(scale)).astype(np.float32)
        obs, reward, terminated, truncated, info = env.step(action)
        episode["actions"].append(exact(action))
        episode["observations"].append(rounded(obs))
        episode["rewards"].append(float(reward))
        episode["terminated"].append(bool(terminated))
        episode["truncated"].append(bool(truncated))
        for name in terms:
            episode["metrics"][name].append(float(info[name]))
        done = terminated or truncated
    env.close()
    return episode


def main():
    out = Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    for task, (cap, terms) in TASKS.items():
        episodes = [record(task, "random", 1.0, seed, cap, terms) for seed in (0, 1)]
        episodes.append(record(task, "beyond-bounds", 1.5, 2, cap, terms))
        data = {
            "task": task,
            "gymnasium": gym.__version__,
            "mujoco": mujoco.__version__,
            "numpy": np.__version__,
            "episodes": episodes,
        }
        path = out / f"{task}.json"
        path.write_text(json.dumps(data, separators=(",", ":")) + "\n")
        endings = [
            f"{e['policy']}:{len(e['actions'])}{'T' if e['terminated'][-1] else ''}{'t' if e['truncated'][-1] else ''}"
            for e in episodes
        ]
        print(f"{path}: {' '.join(endings)}")


if __name__ == "__main__":
    main()
