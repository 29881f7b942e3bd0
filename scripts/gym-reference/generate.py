"""Record reference rollouts of Gymnasium's classic-control tasks.

For every task: a few episodes with uniformly random actions (seeded) and one or two with a
scripted policy that reaches the other ending (termination or truncation) or drives actions
outside the bounds. Each episode stores the exact internal start state, the actions and
what Gymnasium returned. The Rust conformance test replays them.

Usage: python generate.py OUT_DIR   (run through scripts/gym-reference.sh)
"""

import json
import sys
from pathlib import Path

import gymnasium as gym
import numpy as np


def internal_state(env):
    return [float(v) for v in np.asarray(env.unwrapped.state, dtype=np.float64).ravel()]


def as_json_action(action):
    if isinstance(action, (int, np.integer)):
        return int(action)
    return [float(v) for v in np.asarray(action, dtype=np.float32).ravel()]


def record(task, policy_name, policy, seed):
    env = gym.make(task)
    obs, _ = env.reset(seed=seed)
    env.action_space.seed(seed)
    episode = {
        "policy": policy_name,
        "seed": seed,
        "initial_state": internal_state(env),
        "initial_observation": [float(v) for v in obs],
        "actions": [],
        "observations": [],
        "rewards": [],
        "terminated": [],
        "truncated": [],
    }
    done = False
    while not done:
        action = policy(env, obs)
        obs, reward, terminated, truncated, _ = env.step(action)
        episode["actions"].append(as_json_action(action))
        episode["observations"].append([float(v) for v in obs])
        episode["rewards"].append(float(reward))
        episode["terminated"].append(bool(terminated))
        episode["truncated"].append(bool(truncated))
        done = terminated or truncated
    env.close()
    return episode


def random_policy(env, obs):
    return env.action_space.sample()


SCRIPTED = {
    # Push toward the side the pole is falling to: balances until the time limit.
    "CartPole-v1": [("balance", lambda env, o: int(o[2] + 0.5 * o[3] > 0))],
    # Pump energy by torquing along the elbow's velocity: swings up within 100 steps.
    "Acrobot-v1": [("pump", lambda env, o: 2 if o[5] > 0 else 0)],
    # Push along the velocity: reaches the goal.
    "MountainCar-v0": [("pump", lambda env, o: 2 if o[1] > 0 else 0)],
    # Push along the velocity, once within bounds and once beyond them (clipped by the task).
    "MountainCarContinuous-v0": [
        ("pump", lambda env, o: np.array([1.0 if o[1] >= 0 else -1.0], dtype=np.float32)),
        ("pump-beyond-bounds", lambda env, o: np.array([1.5 if o[1] >= 0 else -1.5], dtype=np.float32)),
    ],
    # Torques beyond the bounds (clipped by the task), alternating direction.
    "Pendulum-v1": [("beyond-bounds", lambda env, o: np.array([3.0 if o[2] >= 0 else -3.0], dtype=np.float32))],
}


def main():
    out = Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    for task, scripted in SCRIPTED.items():
        episodes = [record(task, "random", random_policy, seed) for seed in (0, 1, 2)]
        episodes += [record(task, name, policy, 10 + i) for i, (name, policy) in enumerate(scripted)]
        data = {
            "task": task,
            "gymnasium": gym.__version__,
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
