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
and seed start together, one torch thread each, ``--threads``). Every 500 steps each run is
evaluated deterministically on the 100 fixed starts ``reset(seed=i)``, i < 100, its time excluded
from the training time that each record keeps beside its curve (``curve_seconds``). The table gives, per
algorithm and library: the training seconds and steps until the mean return first reaches -200
(``--threshold``), the final return (mean and standard deviation over seeds, at the end of each
run's budget), and the ratio of SB3's time to rlbook's, per seed and of the means.

Records go to ``code/rlbook/results/pendulum-threshold/`` (the Benchmarks chapter reads them with
``rlbook.results.load("pendulum-threshold")``); ``--skip-done`` continues an interrupted run, and
``--table`` prints the table of the records there without training. The times depend on the CPU:
the records keep its model, its flags, torch's kernel set, and the kernel limits if any were set.
On a CPU with AVX-512, an AVX2 machine can be approximated by limiting torch's, MKL's and oneDNN's
kernels (the committed records were made that way; an approximation only: clock, caches and the
rest of the microarchitecture stay those of the newer CPU):

    ATEN_CPU_CAPABILITY=avx2 MKL_ENABLE_INSTRUCTIONS=AVX2 ONEDNN_MAX_CPU_ISA=AVX2 \\
        .venv/bin/python benchmarks/time_to_threshold.py --seeds 5 --jobs 2
"""

from __future__ import annotations

import argparse
from pathlib import Path

from rlbook.optimum import pendulum_optimum
from rlbook.presets import LAPTOP, pendulum_settings
from rlbook.provenance import cpu_summary
from rlbook.sweep import Job, load_records, sweep, threshold_table

ALGOS = ("td3", "sac")
CEILING = round(pendulum_optimum().mean, 1)  # the best control found on the 100 fixed starts
RESULTS = Path(__file__).resolve().parents[1] / "code" / "rlbook" / "results"
OUT = RESULTS / "pendulum-threshold"


def jobs_for(algos, seeds, threads, eval_every=500):
    evaluation = dict(eval_every=eval_every, eval_episodes=100, threads=threads)
    jobs = []
    for seed in range(seeds):
        for algo in algos:
            jobs.append(Job(algo, seed, settings={**LAPTOP[algo], **evaluation}, label=algo))
            zoo = {**pendulum_settings(f"sb3-{algo}"), **evaluation}
            jobs.append(Job(f"sb3-{algo}", seed, settings=zoo, label=f"sb3-{algo}"))
    return jobs


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
    args = parser.parse_args()
    if not args.table:
        jobs = jobs_for(args.algos, args.seeds, args.threads)
        if args.skip_done:
            jobs = [j for j in jobs if not (args.out / f"{j.name}-seed{j.seed}.json").exists()]
        print(f"{cpu_summary()}\n{len(jobs)} jobs, {args.jobs} at a time -> {args.out}", flush=True)
        records = sweep(jobs, n_jobs=args.jobs, out=args.out, verbose=10)
        for r in records:
            if r["error"]:
                print(f"FAILED {r['name']} seed {r['seed']}:\n{r['error']}")
    groups = load_records(args.out)
    print(threshold_table(groups, args.threshold, args.algos))
    print(f"(ceiling on these starts: about {CEILING}; target: final >= {CEILING - 15:.1f})")


if __name__ == "__main__":
    main()
