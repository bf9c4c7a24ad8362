"""Where the time of one DDPG/TD3/SAC update goes: matrix products against everything else.

Usage: .venv/bin/python benchmarks/profile_update.py [--threads 1] [--updates 200]
       [--precision float32 bfloat16] [--shapes] [--sb3]

Builds each agent with the zoo settings of the Pendulum benchmarks (``rlbook.runners``: networks
[400, 300] for DDPG and TD3, [256, 256] for SAC, batch 256) on Pendulum-v1, fills its buffer with random transitions, and
profiles ``update()`` with torch.profiler. Prints, per algorithm, the wall time per update, the
share spent in matrix-product kernels (aten::mm, addmm, bmm, baddbmm and their backward passes,
which dispatch to them) and the floating-point rate they reach. When the products dominate, an
implementation can only get faster than another by doing fewer of them or doing them in lower
precision, not by trimming Python overhead. ``--precision`` lists the settings of the agents'
``precision`` option to time (each update then runs in ``agent.autocast()``, as in training);
``bfloat16`` is refused, before anything runs, on a CPU without native bf16 units (see
``rlbook.agent.bf16_native``), and ``auto`` times what the agents pick (its row says which).
``--shapes`` lists the products of an update by shape, with their time and rate: thin products
(one output column, or a handful of inputs) run far below the rate of the large ones. ``--sb3``
also times one stable-baselines3 ``train(gradient_steps=1)`` (float32) built by
``rlbook.runners.sb3_model`` with the same settings, so the two updates can be compared without
their interaction loops.
"""

from __future__ import annotations

import argparse
import time

import gymnasium as gym
import numpy as np
import torch
from torch.profiler import ProfilerActivity, profile

from rlbook import ddpg, sac, td3
from rlbook.agent import resolve_precision
from rlbook.presets import pendulum_settings
from rlbook.runners import sb3_model

MATMUL = ("aten::mm", "aten::addmm", "aten::bmm", "aten::baddbmm")


def agent(algo: str, precision: str = "float32"):
    """rlbook's agent with the zoo settings, its buffer filled with 5,000 random transitions."""
    agent_class = {"ddpg": ddpg.DDPG, "td3": td3.TD3, "sac": sac.SAC}[algo]
    cfg = agent_class.config_class(**pendulum_settings(algo), device="cpu", precision=precision)
    a = agent_class(gym.make("Pendulum-v1"), cfg, np.random.SeedSequence(0))
    rng = np.random.default_rng(0)
    for _ in range(5_000):
        obs = rng.normal(size=3).astype(np.float32)
        a.store(obs, rng.uniform(-2, 2, 1), -rng.random(), obs, False, False)
    return a


def sb3_update_seconds(algo: str, updates: int) -> float:
    """Seconds per ``train(gradient_steps=1)`` of SB3's model with the same zoo settings
    (``rlbook.runners.sb3_model``, as in the benchmarks), its buffer filled by 400 steps."""
    model, s = sb3_model(algo, "Pendulum-v1", seed=0, warmup_steps=100, device="cpu")
    model.learn(total_timesteps=400)  # fills the buffer (and makes a few updates)
    for _ in range(20):
        model.train(gradient_steps=1, batch_size=s["batch_size"])
    start = time.perf_counter()
    for _ in range(updates):
        model.train(gradient_steps=1, batch_size=s["batch_size"])
    return (time.perf_counter() - start) / updates


def print_shapes(prof, updates: int, rows: int = 12) -> None:
    """The products of one update by input shapes: calls, microseconds per call, GFLOP/s."""
    events = [e for e in prof.key_averages(group_by_input_shape=True) if e.key in MATMUL]
    events.sort(key=lambda e: -e.self_cpu_time_total)
    for e in events[:rows]:
        us = e.self_cpu_time_total / e.count
        rate = e.flops / e.count / us / 1e3 if e.flops else float("nan")
        shapes = ", ".join(str(s) for s in e.input_shapes if s)
        print(
            f"    {e.key:13s} {shapes:44s} {e.count / updates:4.1f}/update {us:8.1f} us "
            f"{rate:6.1f} GFLOP/s"
        )


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--updates", type=int, default=200)
    parser.add_argument(
        "--precision", nargs="+", default=["float32"], choices=["float32", "bfloat16", "auto"]
    )
    parser.add_argument("--shapes", action="store_true", help="list the products by shape")
    parser.add_argument("--sb3", action="store_true", help="time SB3's update too")
    args = parser.parse_args()
    try:  # bfloat16 on a CPU without bf16 units: the agents' error, before minutes of SB3
        for precision in args.precision:
            resolve_precision(precision, "cpu")
    except ValueError as err:
        parser.error(str(err))
    torch.set_num_threads(args.threads)
    print(
        f"{'algo':5s} {'precision':>9s} {'ms/update':>10s} {'matmul share':>13s} "
        f"{'matmul GFLOP/s':>15s}" + ("  SB3 ms/update  ratio" if args.sb3 else "")
    )
    for algo in ("ddpg", "td3", "sac"):
        peer = sb3_update_seconds(algo, args.updates) if args.sb3 else None  # float32, once
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
            with profile(
                activities=[ProfilerActivity.CPU], with_flops=True, record_shapes=args.shapes
            ) as prof:
                for _ in range(args.updates // 4):
                    update()
            events = prof.key_averages()
            total = sum(e.self_cpu_time_total for e in events)
            mm = [e for e in events if e.key in MATMUL]
            mm_time = sum(e.self_cpu_time_total for e in mm)
            flops = sum(e.flops for e in mm)
            line = (
                f"{algo:5s} {a.precision:>9s} {1e3 * per_update:10.2f} {mm_time / total:13.0%} "
                f"{flops / (mm_time * 1e-6) / 1e9:15.1f}"
            )
            if peer is not None:
                line += f"  {1e3 * peer:13.2f}  {peer / per_update:5.2f}"
            print(line)
            if args.shapes:
                print_shapes(prof, args.updates // 4)


if __name__ == "__main__":
    main()
