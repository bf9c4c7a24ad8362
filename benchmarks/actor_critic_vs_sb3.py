"""DDPG, TD3 and SAC of rlbook side by side with stable-baselines3 on Pendulum-v1.

Usage (from the repository root, after `make setup` and `.venv/bin/pip install -e ".[bench]"`):

    .venv/bin/python benchmarks/actor_critic_vs_sb3.py --seeds 5 --threads 1 \
        --out benchmarks/results/actor_critic_vs_sb3.json

Settings are the rl-baselines3-zoo Pendulum-v1 ones, applied to both libraries: 20,000 steps;
TD3/DDPG with gamma 0.98, learning rate 1e-3, buffer 200,000, 10,000 warm-up steps, Gaussian
exploration noise sigma 0.1 (in normalized action units), networks [400, 300], batch 256,
tau 0.005; SAC with SB3's defaults (gamma 0.99, buffer 10^6, 100 warm-up steps, batch 256,
networks [256, 256], tau 0.005, automatic entropy tuning) and learning rate 1e-3.

For every seed the runs alternate (ours, SB3, ours, SB3, ...) with the same thread count, so that
both see the same machine state. Every ``--eval-every`` steps, and after training, the policy is
evaluated deterministically on the episodes started by reset(seed=i), i = 0..eval_episodes-1 (100 by
default, the same starts for both libraries), which gives a learning curve per run. Steps per second
count environment steps of training, updates included, evaluation excluded.
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import time
from pathlib import Path

import gymnasium as gym
import numpy as np
import torch

from rlbook import ddpg, sac, td3
from rlbook.loop import evaluate
from rlbook.sweep import machine_name

ENV = "Pendulum-v1"
ZOO_TD3 = dict(gamma=0.98, lr=1e-3, buffer=200_000, warmup=10_000, sigma=0.1, net=[400, 300])
SAC_SB3 = dict(gamma=0.99, lr=1e-3, buffer=1_000_000, warmup=100, net=[256, 256])


def ours(algo: str, steps: int, seed: int, eval_every: int, eval_episodes: int):
    s = SAC_SB3 if algo == "sac" else ZOO_TD3
    common = dict(
        total_steps=steps,
        warmup_steps=s["warmup"],
        gamma=s["gamma"],
        lr_q=s["lr"],
        lr_pi=s["lr"],
        buffer_size=s["buffer"],
        hidden=tuple(s["net"]),
        batch_size=256,
        tau=0.005,
        eval_every=eval_every,
        eval_episodes=eval_episodes,
        device="cpu",
    )
    if algo == "sac":
        return sac.train(ENV, sac.SACConfig(alpha="auto", **common), seed=seed, progress=False)
    common.update(noise="gaussian", noise_sigma=s["sigma"])
    if algo == "td3":
        return td3.train(ENV, td3.TD3Config(**common), seed=seed, progress=False)
    return ddpg.train(
        ENV, ddpg.DDPGConfig(target_update="ema", **common), seed=seed, progress=False
    )


def sb3(algo: str, steps: int, seed: int, eval_every: int, eval_episodes: int):
    """Train the SB3 peer; returns (model, training wall time without evaluation, curve)."""
    import stable_baselines3 as sb
    from stable_baselines3.common.callbacks import BaseCallback
    from stable_baselines3.common.noise import NormalActionNoise

    env = gym.make(ENV)
    if algo == "sac":
        s = SAC_SB3
        model = sb.SAC(
            "MlpPolicy",
            env,
            gamma=s["gamma"],
            learning_rate=s["lr"],
            buffer_size=s["buffer"],
            learning_starts=s["warmup"],
            seed=seed,
            device="cpu",
            policy_kwargs=dict(net_arch=s["net"]),
        )
    else:
        z = ZOO_TD3
        noise = NormalActionNoise(np.zeros(1), z["sigma"] * np.ones(1))
        cls = sb.TD3 if algo == "td3" else sb.DDPG
        model = cls(
            "MlpPolicy",
            env,
            gamma=z["gamma"],
            learning_rate=z["lr"],
            buffer_size=z["buffer"],
            learning_starts=z["warmup"],
            action_noise=noise,
            seed=seed,
            device="cpu",
            policy_kwargs=dict(net_arch=z["net"]),
        )

    class Curve(BaseCallback):  # the same evaluation as rlbook's loop, its time excluded
        def __init__(self):
            super().__init__()
            self.curve, self.eval_time = [], 0.0

        def _on_step(self) -> bool:
            if eval_every and self.num_timesteps % eval_every == 0:
                t0 = time.perf_counter()
                ret = evaluate(predictor(self.model), make, range(eval_episodes))
                self.eval_time += time.perf_counter() - t0
                self.curve.append(
                    {"step": self.num_timesteps, "mean": float(ret.mean()), "std": float(ret.std())}
                )
            return True

    callback = Curve()
    start = time.perf_counter()
    model.learn(total_timesteps=steps, callback=callback)
    wall = time.perf_counter() - start - callback.eval_time
    return model, wall, callback.curve


def make():
    return gym.make(ENV)


def predictor(model):
    return lambda obs: model.predict(obs, deterministic=True)[0]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--algos", nargs="+", default=["ddpg", "td3", "sac"], choices=["ddpg", "td3", "sac"]
    )
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--steps", type=int, default=20_000)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--eval-episodes", type=int, default=100)
    parser.add_argument("--eval-every", type=int, default=2_000)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--note", default="", help="conditions of the run, kept in the record")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    import stable_baselines3

    commit = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True)
    record = dict(
        command="benchmarks/actor_critic_vs_sb3.py --algos " + " ".join(args.algos)
        + f" --seeds {args.seeds} --steps {args.steps} --threads {args.threads}"
        + f" --eval-episodes {args.eval_episodes} --eval-every {args.eval_every}",
        commit=commit.stdout.strip(),
        versions=dict(torch=torch.__version__, sb3=stable_baselines3.__version__,
                      gymnasium=gym.__version__, python=platform.python_version()),
        machine=machine_name(),
        note=args.note,
        rows=[],
    )  # fmt: skip
    rows = record["rows"]

    def save():  # after every run, so an interrupted benchmark keeps what it measured
        if args.out:
            args.out.parent.mkdir(parents=True, exist_ok=True)
            args.out.write_text(json.dumps(record, indent=1))

    eval_seeds = range(args.eval_episodes)
    for seed in range(args.seeds):
        for algo in args.algos:
            r = ours(algo, args.steps, seed, args.eval_every, args.eval_episodes)
            ret = evaluate(r.agent.act_batch, make, eval_seeds)
            rows.append(
                dict(
                    lib="rlbook",
                    algo=algo,
                    seed=seed,
                    ret=float(ret.mean()),
                    sps=r.steps_per_second,
                    curve=r.curve,
                )
            )
            save()
            print(
                f"seed {seed} {algo:4s} rlbook {ret.mean():8.1f} {r.steps_per_second:6.1f} sps",
                flush=True,
            )
            model, wall, curve = sb3(algo, args.steps, seed, args.eval_every, args.eval_episodes)
            ret = evaluate(predictor(model), make, eval_seeds)
            rows.append(
                dict(
                    lib="sb3",
                    algo=algo,
                    seed=seed,
                    ret=float(ret.mean()),
                    sps=args.steps / wall,
                    curve=curve,
                )  # fmt: skip
            )
            save()
            print(
                f"seed {seed} {algo:4s} sb3    {ret.mean():8.1f} {args.steps / wall:6.1f} sps",
                flush=True,
            )

    print(
        f"\nPendulum-v1, {args.steps} steps, {args.seeds} seeds, {args.threads} thread(s), "
        f"deterministic return over {args.eval_episodes} fixed starts"
    )
    print(
        f"{'algo':5s} {'rlbook return':>16s} {'SB3 return':>16s} {'rlbook sps':>11s} "
        f"{'SB3 sps':>8s} {'sps ratio':>9s}"
    )
    for algo in args.algos:
        o = [r for r in rows if r["algo"] == algo and r["lib"] == "rlbook"]
        s = [r for r in rows if r["algo"] == algo and r["lib"] == "sb3"]
        ro, rs = np.array([r["ret"] for r in o]), np.array([r["ret"] for r in s])
        so, ss = np.mean([r["sps"] for r in o]), np.mean([r["sps"] for r in s])
        print(
            f"{algo:5s} {ro.mean():8.1f} +- {ro.std():5.1f} {rs.mean():8.1f} +- {rs.std():5.1f} "
            f"{so:11.1f} {ss:8.1f} {so / ss:9.2f}"
        )


if __name__ == "__main__":
    main()
