"""Stable-Baselines3 PPO on CartPole-v1 with the hyperparameters of Angora's `cartpole` preset.

Prints one JSON line: wall-clock training seconds and the deterministic policy's mean return
over 100 evaluation episodes. Usage: python train_cartpole.py SEED
"""

import json
import sys
import time

import gymnasium as gym
import numpy as np
import torch
from stable_baselines3 import PPO
from stable_baselines3.common.env_util import make_vec_env


def main():
    seed = int(sys.argv[1])
    env = make_vec_env("CartPole-v1", n_envs=8, seed=seed)
    model = PPO(
        "MlpPolicy",
        env,
        n_steps=32,
        batch_size=256,
        n_epochs=10,
        learning_rate=lambda progress: 1e-3 * progress,  # linear to zero, as `lr_schedule = "linear"`
        gamma=0.98,
        gae_lambda=0.8,
        clip_range=0.2,
        ent_coef=0.0,
        vf_coef=0.5,
        max_grad_norm=0.5,
        policy_kwargs=dict(net_arch=dict(pi=[64, 64], vf=[64, 64]), activation_fn=torch.nn.Tanh),
        seed=seed,
        device="cpu",
        verbose=0,
    )
    start = time.perf_counter()
    model.learn(total_timesteps=100_000)
    seconds = time.perf_counter() - start

    eval_env = gym.make("CartPole-v1")
    returns = []
    obs, _ = eval_env.reset(seed=1000 + seed)
    for _ in range(100):
        done, total = False, 0.0
        while not done:
            action, _ = model.predict(obs, deterministic=True)
            obs, reward, terminated, truncated, _ = eval_env.step(int(action))
            total += reward
            done = terminated or truncated
        returns.append(total)
        obs, _ = eval_env.reset()
    print(json.dumps({"framework": "sb3", "seed": seed, "seconds": seconds, "mean_return": float(np.mean(returns)),
                      "torch_threads": torch.get_num_threads()}))


if __name__ == "__main__":
    main()
