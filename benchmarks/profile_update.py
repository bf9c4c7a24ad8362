"""Where the time of one DDPG/TD3/SAC update goes: matrix products against everything else.

Usage: .venv/bin/python benchmarks/profile_update.py [--threads 1] [--updates 200]
       [--precision float32 bfloat16]

Builds each agent with the settings of actor_critic_vs_sb3.py (networks [400, 300] for DDPG and
TD3, [256, 256] for SAC, batch 256) on Pendulum-v1, fills its buffer with random transitions, and
profiles ``update()`` with torch.profiler. Prints, per algorithm, the wall time per update, the
share spent in matrix-product kernels (aten::mm, addmm, bmm, baddbmm and their backward passes,
which dispatch to them) and the floating-point rate they reach. When the products dominate, an
implementation can only get faster than another by doing fewer of them or doing them in lower
precision, not by trimming Python overhead. ``--precision`` lists the settings of the agents'
``precision`` option to time (each update then runs in ``agent.autocast()``, as in training).
"""

from __future__ import annotations

import argparse
import time

import gymnasium as gym
import numpy as np
import torch
from torch.profiler import ProfilerActivity, profile

from rlbook import ddpg, sac, td3

MATMUL = ("aten::mm", "aten::addmm", "aten::bmm", "aten::baddbmm")


def agent(algo: str, precision: str = "float32"):
    env = gym.make("Pendulum-v1")
    if algo == "sac":
        cfg = sac.SACConfig(hidden=(256, 256), batch_size=256, alpha="auto", device="cpu",
                            precision=precision)  # fmt: skip
        a = sac.SAC(env, cfg, np.random.SeedSequence(0))
    elif algo == "td3":
        cfg = td3.TD3Config(hidden=(400, 300), batch_size=256, device="cpu", precision=precision)
        a = td3.TD3(env, cfg, np.random.SeedSequence(0))
    else:
        cfg = ddpg.DDPGConfig(hidden=(400, 300), batch_size=256, target_update="ema", device="cpu",
                              precision=precision)  # fmt: skip
        a = ddpg.DDPG(env, cfg, np.random.SeedSequence(0))
    rng = np.random.default_rng(0)
    for _ in range(5_000):
        obs = rng.normal(size=3).astype(np.float32)
        a.store(obs, rng.uniform(-2, 2, 1), -rng.random(), obs, False, False)
    return a


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--updates", type=int, default=200)
    parser.add_argument("--precision", nargs="+", default=["float32"],
                        choices=["float32", "bfloat16"])  # fmt: skip
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(f"{'algo':5s} {'precision':>9s} {'ms/update':>10s} {'matmul share':>13s} "
          f"{'matmul GFLOP/s':>15s}")  # fmt: skip
    for algo in ("ddpg", "td3", "sac"):
        for precision in args.precision:
            a = agent(algo, precision)

            def update(a=a):
                with a.autocast():
                    a.update()

            for _ in range(20):  # warm up
                update()
            start = time.perf_counter()
            for _ in range(args.updates):
                update()
            per_update = (time.perf_counter() - start) / args.updates
            with profile(activities=[ProfilerActivity.CPU], with_flops=True) as prof:
                for _ in range(args.updates // 4):
                    update()
            events = prof.key_averages()
            total = sum(e.self_cpu_time_total for e in events)
            mm = [e for e in events if e.key in MATMUL]
            mm_time = sum(e.self_cpu_time_total for e in mm)
            flops = sum(e.flops for e in mm)
            print(f"{algo:5s} {precision:>9s} {1e3 * per_update:10.2f} {mm_time / total:13.0%} "
                  f"{flops / (mm_time * 1e-6) / 1e9:15.1f}")  # fmt: skip


if __name__ == "__main__":
    main()
