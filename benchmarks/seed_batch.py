"""Seeds in one process: the wall time of S seeds of TD3 and SAC, batched and not, against SB3.

Usage (from the repository root, after `make setup` and `.venv/bin/pip install -e ".[bench]"`):

    .venv/bin/python benchmarks/seed_batch.py --seeds 5 --steps 3000

For each algorithm (TD3, SAC) and each size, the chapters' (:data:`rlbook.presets.LAPTOP`:
64-wide networks) and the zoo's (:data:`rlbook.presets.PENDULUM_TD3` / ``PENDULUM_SAC``:
400x300 or 256x256), it trains ``--steps`` environment steps (1,000 of them warm-up, evaluation
off, batch 256, Pendulum-v1) and times, on one torch thread per process:

- ``one``: one seed (``train(seed=0)``);
- ``sequential``: the S seeds one after another in one process;
- ``batched``: the S seeds as one batch in one process (``train(seeds=range(S))``);
- ``2 proc``: the S seeds over 2 worker processes (joblib), one seed after another in each;
- ``2 proc batched``: the S seeds split into two batches, one per worker process;
- ``SB3 2 proc``: stable-baselines3 with the same settings, the S seeds over 2 worker processes.

The table gives each mode's wall seconds (the process modes include starting their workers) and
its ratio to one seed. The record (``--out``, default
``code/rlbook/results/seed-batch/speed.json``) keeps the table, the command and the CPU
(model, flags, torch's kernel set). ``--sizes chapter`` or ``--no-sb3`` shorten it.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import torch
from joblib import Parallel, delayed

from rlbook import sac, td3
from rlbook.presets import LAPTOP, pendulum_settings
from rlbook.provenance import cpu_summary
from rlbook.runners import sb3_model

MODULES = {"td3": td3, "sac": sac}
OUT = Path(__file__).resolve().parents[1] / "code" / "rlbook" / "results" / "seed-batch"


def settings(algo: str, size: str, steps: int) -> dict:
    """The run's settings: the chapter's or the zoo's networks, ``steps`` steps, no evaluation."""
    base = dict(LAPTOP[algo]) if size == "chapter" else pendulum_settings(algo)
    base.update(total_steps=steps, warmup_steps=1_000, eval_every=0, batch_size=256)
    if size == "zoo":
        base["buffer_size"] = max(steps, 1_000)
    return base


def _rlbook(algo: str, s: dict, seeds: list[int], batched: bool) -> float:
    """Seconds to train ``seeds``: as one batch, or one ``train(seed=...)`` after another."""
    torch.set_num_threads(1)
    start = time.perf_counter()
    if batched:
        MODULES[algo].train("Pendulum-v1", seeds=seeds, progress=False, **s)
    else:
        for seed in seeds:
            MODULES[algo].train("Pendulum-v1", seed=seed, progress=False, **s)
    return time.perf_counter() - start


def _sb3(algo: str, s: dict, seed: int) -> float:
    torch.set_num_threads(1)
    keep = {"total_steps", "gamma", "lr_q", "lr_pi", "buffer_size", "warmup_steps", "hidden"}
    keep |= {"batch_size", "tau"} | ({"alpha"} if algo == "sac" else {"noise", "noise_sigma"})
    given = {k: v for k, v in s.items() if k in keep}
    if algo == "td3":
        given.setdefault("noise", "gaussian")
    start = time.perf_counter()
    model, _ = sb3_model(algo, "Pendulum-v1", seed, device="cpu", **given)
    model.learn(total_timesteps=s["total_steps"])
    return time.perf_counter() - start


def measure(algo: str, size: str, seeds: int, steps: int, with_sb3: bool) -> dict:
    s = settings(algo, size, steps)
    all_seeds = list(range(seeds))
    halves = [all_seeds[: (seeds + 1) // 2], all_seeds[(seeds + 1) // 2 :]]
    times = {
        "one": _rlbook(algo, s, [0], batched=False),
        "sequential": _rlbook(algo, s, all_seeds, batched=False),
        "batched": _rlbook(algo, s, all_seeds, batched=True),
    }
    start = time.perf_counter()
    Parallel(n_jobs=2)(delayed(_rlbook)(algo, s, [seed], False) for seed in all_seeds)
    times["2 proc"] = time.perf_counter() - start
    start = time.perf_counter()
    Parallel(n_jobs=2)(delayed(_rlbook)(algo, s, half, True) for half in halves)
    times["2 proc batched"] = time.perf_counter() - start
    if with_sb3:
        start = time.perf_counter()
        Parallel(n_jobs=2)(delayed(_sb3)(algo, s, seed) for seed in range(seeds))
        times["SB3 2 proc"] = time.perf_counter() - start
    return {"algo": algo, "size": size, "hidden": list(s["hidden"]), "seconds": times}


def table(rows: list[dict], seeds: int, steps: int) -> str:
    modes = list(rows[0]["seconds"])
    head = f"| algorithm | networks | {' | '.join(modes)} |"
    lines = [head, "|" + "---|" * (len(modes) + 2)]
    for r in rows:
        one = r["seconds"]["one"]
        cells = [f"{t:.1f} s ({t / one:.2f}x)" for t in r["seconds"].values()]
        net = "x".join(map(str, r["hidden"]))
        lines.append(f"| {r['algo'].upper()} | {r['size']} {net} | {' | '.join(cells)} |")
    lines.append(
        f"\n{seeds} seeds, {steps:,} steps each (1,000 warm-up), Pendulum-v1, one torch thread "
        "per process; in brackets: the time relative to one seed."
    )
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--steps", type=int, default=3_000)
    parser.add_argument("--algos", nargs="+", default=["td3", "sac"], choices=sorted(MODULES))
    parser.add_argument(
        "--sizes", nargs="+", default=["chapter", "zoo"], choices=["chapter", "zoo"]
    )
    parser.add_argument("--no-sb3", action="store_true", help="skip the SB3 peer")
    parser.add_argument("--out", type=Path, default=OUT / "speed.json")
    parser.add_argument("--table", action="store_true", help="print the saved record's table")
    args = parser.parse_args(argv)
    if args.table:
        record = json.loads(args.out.read_text())
        print(record["cpu"])
        print(table(record["rows"], record["seeds"], record["steps"]))
        return 0
    if args.seeds < 2 or args.steps <= 1_000:
        parser.error("--seeds must be at least 2 and --steps more than 1000 (the warm-up)")
    rows = []
    for size in args.sizes:
        for algo in args.algos:
            rows.append(measure(algo, size, args.seeds, args.steps, not args.no_sb3))
            print(table(rows[-1:], args.seeds, args.steps).splitlines()[2], flush=True)
    cpu = cpu_summary()
    print(cpu)
    print(table(rows, args.seeds, args.steps))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    command = "python benchmarks/seed_batch.py " + " ".join(sys.argv[1:] if argv is None else argv)
    record = {"command": command.strip(), "cpu": cpu, "seeds": args.seeds, "steps": args.steps}
    args.out.write_text(json.dumps({**record, "rows": rows}, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
