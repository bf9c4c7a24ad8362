"""Time to a good policy: rlbook with the chapters' laptop settings against SB3 with the zoo's.

Usage (from the repository root, after `make setup` and `.venv/bin/pip install -e ".[bench]"`):

    .venv/bin/python benchmarks/time_to_threshold.py --seeds 5 --jobs 2

trains, for each seed, TD3 and SAC of

- rlbook with :data:`rlbook.presets.LAPTOP` (the settings of the chapters' training cells, chosen
  for the time to a good policy on a laptop CPU: 64-wide networks, gamma 0.99, a short warm-up),
  for the chapter's step budget;
- stable-baselines3 with the rl-baselines3-zoo settings (:data:`rlbook.presets.PENDULUM_TD3`,
  :data:`~rlbook.presets.PENDULUM_SAC`: 400x300 or 256x256 networks, 20,000 steps),

each job starting beside its peer (``--jobs 2``: the rlbook run and the SB3 run of one algorithm
and seed start together, one torch thread each, ``--threads``). With ``--batched``, rlbook's
seeds of each algorithm train instead as one batch in one process (``train(seeds=...)``,
:class:`rlbook.sweep.BatchJob`): the TD3 batch and the SAC batch first (side by side with
``--jobs 2``, one after another with ``--jobs 1``), then the SB3 runs, one process per seed;
each rlbook record then says ``"path": "batched"`` with its ``batch_seeds`` and ``batch_size``,
and its times are the batch's clock, shared by its seeds (``clock``). ``--no-sb3`` leaves SB3
out (rlbook's half only). Every 500 steps each run is evaluated deterministically on the 100
fixed starts ``reset(seed=i)``, i < 100, its time excluded from the training time that each
record keeps beside its curve (``curve_seconds``). The table gives, per algorithm and library:
the training seconds and steps until the mean return first reaches -200 (``--threshold``), the
final return (mean and standard deviation over seeds, at the end of each run's budget), and the
ratio of SB3's time to rlbook's, per seed and of the means (for a batch, its seeds' times
include the other seeds' training). A second table gives, per algorithm, the wall time until
every seed of a set had reached the threshold, and the mean over the seeds
(``rlbook.sweep.seed_set_table``): rlbook's batch, rlbook's single runs (from ``--out``, or from
the folder ``--single``, by default ``pendulum-threshold-single/``) one after another and two at
a time, SB3's two at a time.

Records go to ``code/rlbook/results/pendulum-threshold/`` (the Benchmarks chapter reads them with
``rlbook.results.load("pendulum-threshold")``): the committed set holds rlbook's batched records
beside SB3's, and ``pendulum-threshold-single/`` the earlier rlbook records made as single runs.
``--skip-done`` continues an interrupted run, and ``--table`` prints the tables of the records
there without training. The times depend on the CPU: the records keep its model, its flags,
torch's kernel set, and the kernel limits if any were set. On a CPU with AVX-512, an AVX2 machine
can be approximated by limiting torch's, MKL's and oneDNN's kernels (the committed records were
made that way; an approximation only: clock, caches and the rest of the microarchitecture stay
those of the newer CPU):

    export ATEN_CPU_CAPABILITY=avx2 MKL_ENABLE_INSTRUCTIONS=AVX2 ONEDNN_MAX_CPU_ISA=AVX2
    .venv/bin/python benchmarks/time_to_threshold.py --seeds 5 --jobs 2
    R=code/rlbook/results
    mkdir -p $R/pendulum-threshold-single
    mv $R/pendulum-threshold/{td3,sac}-seed*.json $R/pendulum-threshold-single/
    .venv/bin/python benchmarks/time_to_threshold.py --seeds 5 --jobs 1 --batched --no-sb3

The first wrote the SB3 records and rlbook's single runs into ``pendulum-threshold/``, from
where rlbook's were moved to ``pendulum-threshold-single/`` (without the move, the second would
overwrite them); the second wrote rlbook's batched half of the set beside SB3's. The batched
records were made from the working tree on top of commit 6db1392, before ``--batched``,
``--no-sb3`` and :class:`rlbook.sweep.BatchJob` were committed: the commit they name is that
base, which lacks them.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rlbook.optimum import pendulum_optimum
from rlbook.presets import LAPTOP, pendulum_settings
from rlbook.provenance import cpu_summary
from rlbook.sweep import BatchJob, Job, load_records, seed_set_table, sweep, threshold_table

ALGOS = ("td3", "sac")
CEILING = round(pendulum_optimum().mean, 1)  # the best control found on the 100 fixed starts
RESULTS = Path(__file__).resolve().parents[1] / "code" / "rlbook" / "results"
OUT = RESULTS / "pendulum-threshold"
SINGLE = RESULTS / "pendulum-threshold-single"  # rlbook's seeds as single runs


def jobs_for(algos, seeds, threads, eval_every=500, batched=False, sb3=True):
    """The jobs in the order they start: seed, then algorithm, rlbook's run beside SB3's; with
    ``batched``, one :class:`~rlbook.sweep.BatchJob` of all the seeds per algorithm first."""
    evaluation = dict(eval_every=eval_every, eval_episodes=100, threads=threads)
    jobs = []
    if batched:
        for algo in algos:
            settings = {**LAPTOP[algo], **evaluation}
            jobs.append(BatchJob(algo, tuple(range(seeds)), settings=settings, label=algo))
    for seed in range(seeds):
        for algo in algos:
            if not batched:
                jobs.append(Job(algo, seed, settings={**LAPTOP[algo], **evaluation}, label=algo))
            if sb3:
                zoo = {**pendulum_settings(f"sb3-{algo}"), **evaluation}
                jobs.append(Job(f"sb3-{algo}", seed, settings=zoo, label=f"sb3-{algo}"))
    return jobs


def done(job, out: Path) -> bool:
    """Whether every record ``job`` writes is in ``out`` (``--skip-done``)."""
    seeds = job.seeds if isinstance(job, BatchJob) else (job.seed,)
    return all((out / f"{job.name}-seed{s}.json").exists() for s in seeds)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--algos", nargs="+", default=list(ALGOS), choices=ALGOS)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--jobs", type=int, default=2, help="runs at once (local processes)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads per run")
    parser.add_argument("--threshold", type=float, default=-200.0)
    parser.add_argument("--out", type=Path, default=OUT, help="record folder")
    parser.add_argument("--skip-done", action="store_true", help="skip jobs whose file exists")
    parser.add_argument("--table", action="store_true", help="print the table of --out and stop")
    parser.add_argument(
        "--batched", action="store_true", help="rlbook's seeds of each algorithm as one batch"
    )
    parser.add_argument("--no-sb3", action="store_true", help="rlbook's runs only")
    parser.add_argument(
        "--single",
        type=Path,
        default=SINGLE,
        help="a folder of single-run rlbook records, compared in the seed-set table if present",
    )
    args = parser.parse_args()
    if not args.table:
        jobs = jobs_for(
            args.algos, args.seeds, args.threads, batched=args.batched, sb3=not args.no_sb3
        )
        if args.skip_done:
            jobs = [j for j in jobs if not done(j, args.out)]
        print(f"{cpu_summary()}\n{len(jobs)} jobs, {args.jobs} at a time -> {args.out}", flush=True)
        command = " ".join(["python", "benchmarks/time_to_threshold.py", *sys.argv[1:]])
        records = sweep(jobs, n_jobs=args.jobs, out=args.out, verbose=10, command=command)
        for r in records:
            if r["error"]:
                print(f"FAILED {r['name']} seed {r['seed']}:\n{r['error']}")
    groups = load_records(args.out)
    print(threshold_table(groups, args.threshold, args.algos))
    print(f"(ceiling on these starts: about {CEILING}; target: final >= {CEILING - 15:.1f})")
    single = load_records(args.single) if args.single.is_dir() else {}
    if args.single.resolve() == args.out.resolve():
        single = {}  # the same records again
    print()
    print(seed_set_table(groups, args.threshold, args.algos, single=single))


if __name__ == "__main__":
    main()
