"""TD3 and SAC beyond the pendulum: rlbook and stable-baselines3 on HalfCheetah-v5 (or Hopper-v5).

(Not named mujoco.py: a script's folder comes first on ``sys.path``, and the file would shadow the
``mujoco`` package for itself and for the sweep's workers.)

Usage (from the repository root, after `make setup`, which installs the MuJoCo extra, and
`.venv/bin/pip install -e ".[bench]"` for SB3):

    .venv/bin/python benchmarks/mujoco_tasks.py --seeds 3 --steps 50000 --jobs 2

trains, for each seed, TD3 and SAC of rlbook and of SB3 through ``rlbook.sweep``, paired (with
``--jobs 2`` each rlbook run starts beside its SB3 peer, one torch thread each, ``--threads``),
with the settings of the rl-baselines3-zoo for HalfCheetah (which are the papers'):

- TD3: networks [400, 300], learning rate 1e-3 (actor and critic), batch 256, buffer 1,000,000,
  gamma 0.99, tau 0.005, 10,000 uniformly random warm-up steps, Gaussian exploration noise
  sigma 0.1 (in units of half the action range), target smoothing 0.2 clipped at 0.5, policy
  delay 2;
- SAC: networks [256, 256], learning rate 3e-4, batch 256, buffer 1,000,000, gamma 0.99,
  tau 0.005, 10,000 warm-up steps, automatic entropy tuning with target -dim(A).

Every 5,000 steps (``--eval-every``) and at the end each policy is evaluated deterministically on
the 10 episodes started by ``reset(seed=i)``, i < 10 (evaluation excluded from the training time).
Each job writes ``OUT/NAME-seedS.json`` as soon as it finishes (curve, final return, training
seconds, steps per second, versions, commit, CPU), so an interrupted run keeps what it finished
and ``--skip-done`` continues it. The default ``--out`` is
``code/rlbook/results/mujoco-TASK-STEPS/`` (e.g. ``mujoco-halfcheetah-50k``), where the Benchmarks chapter
reads the records with ``rlbook.results.load``. On a 2-core AVX2 machine a float32 update of these
networks takes about 25 ms, so one 50,000-step run takes about 20 minutes and the 12 runs of three
seeds about two hours with two jobs at a time. ``--table`` prints the table of the records in
``--out`` and stops.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from rlbook.presets import HALFCHEETAH
from rlbook.provenance import cpu_summary
from rlbook.sweep import Job, load_records, sweep

RESULTS = Path(__file__).resolve().parents[1] / "code" / "rlbook" / "results"


def jobs_for(task, algos, seeds, steps, eval_every, threads):
    evaluation = dict(total_steps=steps, eval_every=eval_every, eval_episodes=10)
    jobs = []
    for seed in range(seeds):
        for algo in algos:
            for name in (algo, f"sb3-{algo}"):
                settings = {
                    **HALFCHEETAH[algo],  # the zoo's settings (rlbook.presets)
                    **evaluation,
                    "threads": threads,
                    "final_episodes": 10,
                }
                jobs.append(Job(name, seed, env=task, settings=settings, label=name))
    return jobs


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--task", default="HalfCheetah-v5", choices=["HalfCheetah-v5", "Hopper-v5"])
    parser.add_argument("--algos", nargs="+", default=["td3", "sac"], choices=["td3", "sac"])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--steps", type=int, default=50_000)
    parser.add_argument("--eval-every", type=int, default=5_000)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--skip-done", action="store_true", help="skip jobs whose file exists")
    parser.add_argument("--table", action="store_true", help="print the table of --out and stop")
    args = parser.parse_args()
    out = args.out or RESULTS / f"mujoco-{args.task.split('-')[0].lower()}-{args.steps // 1000}k"
    if not args.table:
        jobs = jobs_for(
            args.task, args.algos, args.seeds, args.steps, args.eval_every, args.threads
        )
        if args.skip_done:
            jobs = [j for j in jobs if not (out / f"{j.name}-seed{j.seed}.json").exists()]
        print(f"{cpu_summary()}\n{len(jobs)} jobs, {args.jobs} at a time -> {out}", flush=True)
        for r in sweep(jobs, n_jobs=args.jobs, out=out, verbose=10):
            if r["error"]:
                print(f"FAILED {r['name']} seed {r['seed']}:\n{r['error']}")
    from tables import final_ci_table  # benchmarks/tables.py, beside this script

    print(final_ci_table(load_records(out)))


if __name__ == "__main__":
    main()
