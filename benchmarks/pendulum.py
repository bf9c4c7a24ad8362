"""Every algorithm of the book that can act on Pendulum-v1, many seeds, through ``rlbook.sweep``.

Usage (from the repository root, after `make setup`; the SB3 peers also need
`.venv/bin/pip install -e ".[bench]"`):

    .venv/bin/python benchmarks/pendulum.py --seeds 5 --jobs 2

runs, for each seed, at the same budget of 20,000 environment steps:

- online: DDPG, TD3 and SAC of rlbook and of stable-baselines3 with the rl-baselines3-zoo settings
  (``rlbook.presets.PENDULUM_TD3`` for DDPG and TD3, ``PENDULUM_SAC`` for SAC), and PCL with a
  Gaussian policy (``rlbook.presets.PCL_PENDULUM``), for several path lengths d (``--pcl-d``);
- offline: explicit-maximization FQI and NFQCA on 20,000 transitions of uniformly random torques
  (30 iterations of 100 full-batch Adam steps, gamma 0.98, 64-wide networks).

Every run is evaluated deterministically on the 100 episodes started by reset(seed=i), i < 100, the
same starts for all, every 2,000 steps (online; ``--eval-every``, ``--eval-episodes``) or 5
iterations (offline), and after training.
Each job writes ``OUT/NAME-seedS.json`` as soon as it finishes (curve, final return, wall time,
steps per second, versions, commit, machine), so an interrupted run keeps what it finished, and
``--skip-done`` continues it. ``--precision bfloat16`` runs rlbook's DDPG, TD3 and SAC with
their bf16 autocast option (runs named ``td3-bf16``, ...); it stops at once, with the agents'
error, where the device they would run on (CUDA if available, else the CPU) has no native bf16
units (``rlbook.agent.bf16_native``): bf16 runs 7-8x slower than float32 there. ``--algos``
picks a subset; ``--jobs`` sets how many run at once (local processes; see rlbook.sweep for a
Dask cluster). ``--threads`` is torch's thread count inside each job. Jobs start in the
order seed, then algorithm as listed, and the default lists each rlbook actor-critic next to its
SB3 peer, so with ``--jobs 2`` each rlbook run overlaps its SB3 peer for most of its length (only
the first pair starts exactly together: rlbook's shorter runs let its side of the queue run ahead).
At the end it prints every run's final return and steps per second, and each rlbook actor-critic
beside its SB3 peer with their ratio of steps per second (``benchmarks/tables.py``).

``--batched`` trains rlbook's seeds of each of DDPG, TD3 and SAC as one batch in one process
(``train(seeds=...)``, :class:`rlbook.sweep.BatchJob`; run i of a batch differs from the
one-seed run of seed i by rounding only): those batches start first, then every other job as
above. Each record says which path made it: ``"path": "single"`` or ``"batched"`` (with
``batch_seeds`` and ``batch_size``; a batch's seeds share its clock, so their ``train_seconds``
and ``steps_per_second`` are the batch's, per seed: ``clock`` says so), and every record keeps
the ``command`` that made it. The tables read both kinds. The committed ``pendulum`` set was made
without ``--batched``.

To measure one core of a laptop, run one job at a time, each rlbook run followed by its SB3 peer
for every seed (ours, SB3, ours, SB3, ... in one process), on the CPU, into a folder of your own::

    .venv/bin/python benchmarks/pendulum.py --algos ddpg sb3-ddpg td3 sb3-td3 sac sb3-sac \
        --jobs 1 --threads 1 --device cpu --out /tmp/pendulum-laptop

The Benchmarks and PCL chapters read the files from inside the package (``rlbook.results.load``),
so the default ``--out`` is the package's record folder in this repository:
``code/rlbook/results/pendulum/`` (float32), or ``code/rlbook/results/pendulum-bf16/`` with
``--precision bfloat16``. ``make benchmarks`` writes both: everything in float32, then the
actor-critics with ``--precision bfloat16`` and their SB3 peers.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import rlbook.results
from rlbook.agent import resolve_precision
from rlbook.loop import resolve_device
from rlbook.presets import pendulum_settings
from rlbook.provenance import cpu_summary
from rlbook.sweep import BATCHED, BatchJob, Job, load_records, sweep

ONLINE = ("ddpg", "sb3-ddpg", "td3", "sb3-td3", "sac", "sb3-sac")  # pairs run side by side
ALL = (*ONLINE, "pcl", "fqi", "nfqca")
#: where the chapters read the records (rlbook.results): the package folder in this repository
RESULTS = Path(__file__).resolve().parents[1] / "code" / "rlbook" / "results"
SETS = {"float32": "pendulum", "bfloat16": "pendulum-bf16"}  # the record set of each precision


def jobs_for(
    algos,
    seeds,
    steps,
    pcl_d,
    threads,
    precision="float32",
    eval_every=2_000,
    eval_episodes=100,
    device=None,
    batched=False,
):
    """The jobs, in the order seed, then algorithm as listed; ``eval_every``, ``eval_episodes``
    and ``device`` (None: the runners' default, ``"auto"``) apply to the online actor-critics.
    With ``batched``, rlbook's DDPG, TD3 and SAC come first instead, one
    :class:`~rlbook.sweep.BatchJob` of all the seeds each."""
    jobs, batches = [], []
    for seed in range(seeds):
        for algo in algos:
            common = dict(threads=threads)
            if algo in ONLINE:
                s = pendulum_settings(algo)
                s.update(total_steps=steps, eval_every=eval_every, eval_episodes=eval_episodes)
                if device is not None:
                    s["device"] = device
                label = algo
                if precision != "float32" and algo in ("ddpg", "td3", "sac"):
                    s["precision"] = precision
                    label = f"{algo}-bf16"  # the one other precision
                if batched and algo in BATCHED:
                    if seed == 0:  # one batch of every seed
                        every = tuple(range(seeds))
                        batches.append(BatchJob(algo, every, settings={**s, **common}, label=label))
                else:
                    jobs.append(Job(algo, seed, settings={**s, **common}, label=label))
            elif algo == "pcl":
                for d in pcl_d:
                    jobs.append(
                        Job(
                            "pcl",
                            seed,
                            settings=dict(total_steps=steps, d=d, **common),
                            label=f"pcl-d{d}",
                        )
                    )
            else:
                jobs.append(Job(algo, seed, settings=dict(total_steps=steps, **common)))
    return [*batches, *jobs]


def files(job) -> list[str]:
    """The record files ``job`` writes (a batch: one per seed)."""
    seeds = job.seeds if isinstance(job, BatchJob) else (job.seed,)
    return [f"{job.name}-seed{s}.json" for s in seeds]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--algos", nargs="+", default=list(ALL), choices=ALL)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--steps", type=int, default=20_000)
    parser.add_argument("--pcl-d", type=int, nargs="+", default=[1, 5, 20])
    parser.add_argument("--jobs", type=int, default=1, help="runs at once (local processes)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads per run")
    parser.add_argument("--eval-every", type=int, default=2_000, help="steps (online runs)")
    parser.add_argument("--eval-episodes", type=int, default=100, help="fixed starts (online)")
    parser.add_argument(
        "--device", default=None, help="of the online runs, e.g. cpu (default: their 'auto')"
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help="record folder (default: code/rlbook/results/pendulum, or "
        "pendulum-bf16 with --precision bfloat16)",
    )
    parser.add_argument("--skip-done", action="store_true", help="skip jobs whose file exists")
    parser.add_argument(
        "--batched",
        action="store_true",
        help="rlbook's seeds of DDPG, TD3 and SAC as one batch per algorithm, in one process",
    )
    parser.add_argument(
        "--precision",
        default="float32",
        choices=["float32", "bfloat16"],
        help="of rlbook's DDPG, TD3, SAC (runs named e.g. td3-bf16)",
    )
    args = parser.parse_args()
    try:  # not one failed record per job: the runs use the default device="auto"
        resolve_precision(args.precision, resolve_device(args.device or "auto"))
    except ValueError as err:
        parser.error(str(err))
    if args.out is None:
        args.out = RESULTS / SETS[args.precision]
        if rlbook.results.FOLDER != RESULTS:  # a non-editable install reads another copy
            print(
                f"note: the installed rlbook reads its records from {rlbook.results.FOLDER}, "
                f"not {RESULTS}; `pip install -e .` to make them one",
                flush=True,
            )

    jobs = jobs_for(
        args.algos,
        args.seeds,
        args.steps,
        args.pcl_d,
        args.threads,
        args.precision,
        args.eval_every,
        args.eval_episodes,
        args.device,
        args.batched,
    )
    if args.skip_done:
        jobs = [j for j in jobs if not all((args.out / f).exists() for f in files(j))]
    print(f"{len(jobs)} jobs, {args.jobs} at a time -> {args.out}", flush=True)
    command = " ".join(["python", "benchmarks/pendulum.py", *sys.argv[1:]])
    records = sweep(jobs, n_jobs=args.jobs, out=args.out, verbose=10, command=command)
    failed = [r for r in records if r["error"]]
    for r in failed:
        print(f"FAILED {r['name']} seed {r['seed']}:\n{r['error']}")

    from tables import final_table, peer_table  # benchmarks/tables.py, beside this script

    groups = load_records(args.out)
    print("\n" + final_table(groups))
    peers = peer_table(groups)
    if peers:
        print(f"\nrlbook beside SB3 ({cpu_summary()}):\n{peers}")
    raise SystemExit(1 if failed else 0)


if __name__ == "__main__":
    main()
