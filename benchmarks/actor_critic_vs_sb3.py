"""DDPG, TD3 and SAC of rlbook side by side with stable-baselines3 on Pendulum-v1.

Usage (from the repository root, after `make setup` and `.venv/bin/pip install -e ".[bench]"`):

    .venv/bin/python benchmarks/actor_critic_vs_sb3.py --seeds 5 --threads 1 [--out FILE.json]

One process, runs one after another: the script to run on a laptop when a single core should be
measured. The committed comparison in the Benchmarks chapter comes from ``benchmarks/pendulum.py``
instead, which runs the same runners two at a time (each rlbook run beside its SB3 peer) and writes
one record per run.

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
from pathlib import Path

import gymnasium as gym
import numpy as np
import torch

from rlbook.runners import online, pendulum_settings, sb3_peer
from rlbook.sweep import machine_name

ENV = "Pendulum-v1"


def settings(lib_algo: str, steps: int, eval_every: int, eval_episodes: int) -> dict:
    """The zoo settings (rlbook.runners.pendulum_settings), the same for both libraries."""
    s = pendulum_settings(lib_algo)
    s.update(total_steps=steps, eval_every=eval_every, eval_episodes=eval_episodes, device="cpu")
    return s


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
        command="benchmarks/actor_critic_vs_sb3.py --algos "
        + " ".join(args.algos)
        + f" --seeds {args.seeds} --steps {args.steps} --threads {args.threads}"
        + f" --eval-episodes {args.eval_episodes} --eval-every {args.eval_every}",
        commit=commit.stdout.strip(),
        versions=dict(
            torch=torch.__version__,
            sb3=stable_baselines3.__version__,
            gymnasium=gym.__version__,
            python=platform.python_version(),
        ),
        machine=machine_name(),
        note=args.note,
        rows=[],
    )
    rows = record["rows"]

    def save():  # after every run, so an interrupted benchmark keeps what it measured
        if args.out:
            args.out.parent.mkdir(parents=True, exist_ok=True)
            args.out.write_text(json.dumps(record, indent=1))

    for seed in range(args.seeds):
        for algo in args.algos:
            runs = (("rlbook", online(algo), algo), ("sb3", sb3_peer(algo), f"sb3-{algo}"))
            for lib, run, name in runs:  # alternating: ours, then SB3, for every seed
                s = settings(name, args.steps, args.eval_every, args.eval_episodes)
                r = run(ENV, seed, final_episodes=args.eval_episodes, **s)
                rows.append(
                    dict(
                        lib=lib,
                        algo=algo,
                        seed=seed,
                        ret=r["final_return"],
                        sps=r["steps_per_second"],
                        curve=r["curve"],
                    )
                )
                save()
                print(
                    f"seed {seed} {algo:4s} {lib:6s} {r['final_return']:8.1f} "
                    f"{r['steps_per_second']:6.1f} sps",
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
