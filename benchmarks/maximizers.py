"""The cost and accuracy of every way to compute max_a q(s', a), on the chapter's Q-network.

Usage: .venv/bin/python benchmarks/maximizers.py [--states 10000] [--threads 1]

Trains the Q-network of the embedded-optimization chapter (rlbook.fqi.pendulum_q: explicit FQI
on 3,000 offline Pendulum-v1 transitions, deterministic under the seed), regresses an amortized
policy on exact maximizers of 2,000 next states, and times each maximizer on ``--states`` held-out
states: scipy L-BFGS-B per state from one start and from four, a 401-point grid, batched projected
gradient ascent (2 x 20 and 4 x 30), the cross-entropy method, and the policy's single forward
pass. Prints the seconds and the mean and max relative gap to the best value any method found,
then the speed-ups the DDPG/TD3/SAC-era argument rests on (targets of the FQI issue: batched
ascent at least 10x faster than the scipy loop at an equal or smaller gap; the policy at least
1000x faster, its gap as measured).
"""

from __future__ import annotations

import argparse

import numpy as np
import torch

from rlbook import envs, fqi
from rlbook.networks import DeterministicActor


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--states", type=int, default=10_000)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    low, high = [-2.0], [2.0]
    q, data, _ = fqi.pendulum_q(seed=args.seed)
    train_states = torch.as_tensor(data[3][:2_000])
    a_star, _ = fqi.gradient_maximizer(low, high, restarts=4, steps=30)(q, train_states)
    torch.manual_seed(args.seed)
    policy = DeterministicActor(3, np.array(low), np.array(high), hidden=(64,))
    fqi.fit_regression(policy, (train_states,), a_star.detach(), 500, 1e-2)
    states = torch.as_tensor(envs.pendulum_dataset(args.states, seed=10_000 + args.seed)[0])
    rows = fqi.compare_maximizers(
        q,
        states,
        {
            "scipy L-BFGS-B, 1 start": fqi.lbfgs_maximizer(low, high, 1),
            "scipy L-BFGS-B, 4 starts": fqi.lbfgs_maximizer(low, high, 4),
            "grid, 401 points": fqi.grid_maximizer(low, high, 401),
            "gradient ascent, 2 x 20": fqi.gradient_maximizer(low, high, 2, 20),
            "gradient ascent, 4 x 30": fqi.gradient_maximizer(low, high, 4, 30),
            "cross-entropy method": fqi.cem_maximizer(low, high),
            "amortized policy": lambda q, s: (policy(s), None),
        },
    )
    print(f"{args.states} states, {args.threads} thread(s)")
    print(f"{'method':28s}{'seconds':>10s}{'mean gap':>10s}{'max gap':>10s}")
    for name, seconds, mean_gap, max_gap in rows:
        print(f"{name:28s}{seconds:10.4f}{mean_gap:10.1e}{max_gap:10.1e}")
    by = {r[0]: r for r in rows}
    scipy_t, scipy_gap = by["scipy L-BFGS-B, 1 start"][1:3]
    print()
    for name in ("gradient ascent, 2 x 20", "gradient ascent, 4 x 30", "amortized policy"):
        t, gap = by[name][1:3]
        verdict = "gap <= scipy's" if gap <= scipy_gap else "gap > scipy's"
        print(f"{name:28s} {scipy_t / t:8.0f}x faster than the scipy loop, {verdict}")


if __name__ == "__main__":
    main()
