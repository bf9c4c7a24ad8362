"""Run many (algorithm, settings, seed) jobs in parallel with joblib, locally or on a cluster.

:func:`sweep` sends :class:`Job` objects through ``joblib.Parallel``. By default that is local
processes (``n_jobs`` of them); any joblib backend a user has set up takes over unchanged, for
example a Dask cluster::

    from dask.distributed import Client
    import joblib
    client = Client("tcp://scheduler:8786")          # or LocalCluster(), or dask-jobqueue's SLURM
    with joblib.parallel_config(backend="dask"):
        records = sweep(jobs)

(The tests run it in local processes and on a local Dask cluster. Ray's joblib backend does not
work: it cannot return results as they arrive, ``return_as="generator"``, which :func:`sweep` uses.)

Each job returns a small JSON-ready record: the learning curve, the final deterministic return on
the fixed starts ``reset(seed=i)``, wall time, steps per second, the package versions and the git
commit. A job that raises is reported in its record (``error`` holds the traceback) and does not
stop or lose the others; with ``out`` every record is also written to its own JSON file as soon as
the sweep returns it.

Two kinds of job: a :class:`Job` is one seed in its own process (``"path": "single"`` in its
record); a :class:`BatchJob` is several seeds of DDPG, TD3 or SAC trained as one batch in one
process (``train(..., seeds=...)``, :class:`rlbook.loop.SeedResults`), which writes one record
per seed (``"path": "batched"``, ``batch_seeds``, ``batch_size``): the same fields, its seeds'
times read off the batch's one clock. :func:`seeds_to_threshold` turns either kind into the wall
time until every seed of a set has reached a return.
"""

from __future__ import annotations

import dataclasses
import importlib
import json
import platform
import time
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

import gymnasium as gym
import joblib
import numpy as np
import torch

from . import runners
from .agent import check_seeds
from .loop import evaluate, keeps_global_state
from .provenance import cpu_summary as cpu_summary  # re-exported: the exec_stats page names it
from .provenance import record_header
from .validation import check_int

__all__ = [
    "ALGORITHMS",
    "BATCHED",
    "BatchJob",
    "Job",
    "load_records",
    "run_batch_job",
    "run_job",
    "seed_curves",
    "seed_set_table",
    "seeds_to_threshold",
    "sweep",
    "threshold_table",
    "time_to_threshold",
]

#: what a :class:`Job` may name: a function ``(env, seed, **settings) -> dict`` (see
#: :mod:`rlbook.runners` for what each runs and the record it returns)
ALGORITHMS: dict[str, Callable] = {
    **{name: runners.online(name) for name in ("ddpg", "td3", "sac")},
    **{f"sb3-{name}": runners.sb3_peer(name) for name in ("ddpg", "td3", "sac")},
    "pcl": runners.pcl_online,
    "fqi": runners.fqi_offline,
    "nfqca": runners.nfqca_offline,
}

#: what a :class:`BatchJob` may name: the actor-critics whose ``train`` takes ``seeds=``
BATCHED = ("ddpg", "td3", "sac")

#: what every batched record says of its timings (field ``clock``)
SHARED_CLOCK = (
    "shared: the seeds of the batch advance together in one process, so curve_seconds, "
    "train_seconds and wall_seconds are the batch's, on one clock for every seed (evaluation "
    "excluded from the first two); steps_per_second is one seed's, batch_size times that the "
    "batch's"
)


@dataclass(frozen=True)
class Job:
    """One run: ``algorithm`` (a name in :data:`ALGORITHMS` or a function with the same
    signature), ``settings`` (keyword arguments of its ``train``, plus ``threads`` for torch and
    ``final_episodes``, the number of fixed starts of the final evaluation, default 100), ``seed``
    and ``env``."""

    algorithm: str | Callable
    seed: int = 0
    env: str = "Pendulum-v1"
    settings: dict = field(default_factory=dict)
    label: str = ""  # how tables and plots name the run (default: the algorithm's name)

    @property
    def name(self) -> str:
        if self.label:
            return self.label
        return self.algorithm if isinstance(self.algorithm, str) else self.algorithm.__name__


@dataclass(frozen=True)
class BatchJob:
    """The runs of ``seeds`` of one online actor-critic (``algorithm``, a name in
    :data:`BATCHED`) as one batch in one process: ``rlbook.<algorithm>.train(env, seeds=seeds,
    **settings)``, which steps every seed's environment and makes one batched update per step
    (:func:`rlbook.loop.run_members`). ``settings`` as for a :class:`Job` (fields of the
    algorithm's ``Config``, ``threads``, ``final_episodes``). Run seed ``i`` of the batch differs
    from ``Job(algorithm, seed=i)`` by rounding only; its timings are the batch's."""

    algorithm: str
    seeds: tuple[int, ...] = (0,)
    env: str = "Pendulum-v1"
    settings: dict = field(default_factory=dict)
    label: str = ""

    @property
    def name(self) -> str:
        return self.label or self.algorithm


def _batch_runner(
    algorithm: str,
    env: str,
    seeds: list[int],
    final_episodes: int = 100,
    threads: int | None = None,
    **settings,
) -> list[dict]:
    """Train the batch and evaluate each seed's own agent on the fixed starts
    ``reset(seed=i)``, i < ``final_episodes`` (as :func:`rlbook.runners.online` does for one)."""
    if threads:
        torch.set_num_threads(threads)
    module = importlib.import_module(f"rlbook.{algorithm}")
    batch = module.train(env, seeds=seeds, progress=False, **settings)
    records = []
    for run in batch:
        returns = evaluate(run.agent.act_batch, lambda: gym.make(env), range(final_episodes))
        final = {"final_return": float(returns.mean()), "final_std": float(returns.std())}
        records.append(
            {
                **run.to_record(final),
                "precision": run.agent.precision,
                "device": str(run.agent.device),
            }
        )
    return records


def _header(name, seed, env, settings, path) -> dict:
    return {
        "name": name,
        "seed": seed,
        "env": env,
        "settings": settings,
        "host": platform.node(),
        "path": path,
        "error": None,
    }


def run_batch_job(job: BatchJob) -> list[dict]:
    """Run one batch; one record per seed, in the order of ``job.seeds``, each with ``path``
    ``"batched"``, ``batch_seeds``, ``batch_size`` and ``clock`` (:data:`SHARED_CLOCK`); never
    raises: a failure is reported in every seed's ``error``."""
    seeds = list(job.seeds)
    batch = {"batch_seeds": seeds, "batch_size": len(seeds), "clock": SHARED_CLOCK}
    records = [{**_header(job.name, s, job.env, job.settings, "batched"), **batch} for s in seeds]
    start = time.perf_counter()
    try:
        runs = keeps_global_state(_batch_runner)(job.algorithm, job.env, seeds, **job.settings)
        for record, run in zip(records, runs, strict=True):
            record.update(run)
    except Exception:  # noqa: BLE001 - a crashed batch is reported, the sweep goes on
        for record in records:
            record["error"] = traceback.format_exc()
    wall = time.perf_counter() - start
    for record in records:
        record["wall_seconds"] = wall  # the batch's, final evaluations included
    return records


def run_job(job: Job) -> dict:
    """Run one job; never raises: a failure is reported in the record's ``error``."""
    record = _header(job.name, job.seed, job.env, job.settings, "single")
    start = time.perf_counter()
    try:
        fn = ALGORITHMS[job.algorithm] if isinstance(job.algorithm, str) else job.algorithm
        record.update(fn(job.env, job.seed, **job.settings))
    except Exception:  # noqa: BLE001 - a crashed job is reported, the sweep goes on
        record["error"] = traceback.format_exc()
    record["wall_seconds"] = time.perf_counter() - start
    return record


def _run(job: Job | BatchJob) -> list[dict]:
    return run_batch_job(job) if isinstance(job, BatchJob) else [run_job(job)]


def sweep(
    jobs: Iterable[Job | BatchJob],
    n_jobs: int = 1,
    out: str | Path | None = None,
    backend: str | None = None,
    verbose: int = 0,
    command: str | None = None,
) -> list[dict]:
    """Run ``jobs`` (:class:`Job` or :class:`BatchJob`, one joblib task each) with
    ``joblib.Parallel(n_jobs)`` (``backend=None``: joblib's default, local processes, or
    whatever ``joblib.parallel_config`` set); returns their records in order, a batch's one per
    seed in the order of its seeds.

    Records carry :func:`rlbook.provenance.record_header`, and ``command`` (the command line that
    ran the sweep) where given. With ``out`` (a folder) each record is written to
    ``out/NAME-seedSEED.json`` as it arrives, so an interrupted sweep keeps what it finished.
    """
    jobs = list(jobs)
    for job in jobs:
        if isinstance(job, BatchJob):
            if job.algorithm not in BATCHED:
                raise ValueError(
                    f"a BatchJob's algorithm must be one of {list(BATCHED)}; got {job.algorithm!r}"
                )
            if isinstance(job.seeds, (str, bytes)):
                raise ValueError(f"a BatchJob's seeds must name seeds; got {job.seeds!r}")
            check_seeds(job.seeds)  # at least one, integers >= 0, no repeats
            continue
        if not isinstance(job, Job):
            raise ValueError(
                f"jobs must be rlbook.sweep.Job or BatchJob objects; got {type(job).__name__}"
            )
        if isinstance(job.algorithm, str) and job.algorithm not in ALGORITHMS:
            raise ValueError(
                f"algorithm must be one of {sorted(ALGORITHMS)} or a function; got {job.algorithm!r}"
            )
        check_int("seed", job.seed, 0)
    if n_jobs == 0:
        raise ValueError("n_jobs must be a positive number of workers or -1 (all cores); got 0")
    info = record_header()
    if command is not None:
        info["command"] = command
    out = Path(out) if out is not None else None
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
    parallel = joblib.Parallel(
        n_jobs=n_jobs, backend=backend, return_as="generator", verbose=verbose
    )
    records = []
    for job, done in zip(jobs, parallel(joblib.delayed(_run)(j) for j in jobs), strict=True):
        for record in cast(list, done):  # what _run returns (joblib's stubs say Any | None)
            record.update(info)
            records.append(record)
            if out is not None:
                path = out / f"{job.name}-seed{record['seed']}.json"
                path.write_text(json.dumps(record, indent=1, default=_json_default))
    return records


def load_records(folder: str | Path) -> dict[str, list[dict]]:
    """The records a sweep wrote to ``folder``, grouped by run name and sorted by seed; failed
    runs (``error`` set) are left out. Raises ``FileNotFoundError`` for an empty or missing folder."""
    paths = sorted(Path(folder).glob("*.json"))
    if not paths:
        raise FileNotFoundError(f"no sweep records (*.json) in {folder}")
    groups: dict[str, list[dict]] = {}
    for path in paths:
        record = json.loads(path.read_text())
        if not record.get("error"):
            groups.setdefault(record["name"], []).append(record)
    return {name: sorted(rs, key=lambda r: r["seed"]) for name, rs in groups.items()}


def seed_curves(records: list[dict]) -> tuple[np.ndarray, np.ndarray]:
    """``(steps, curves)`` of one group of records (one run per seed, as :func:`load_records`
    groups them): the evaluation steps, and a ``(seeds, evaluations)`` array of mean returns.
    Raises ``ValueError`` if the seeds were not evaluated at the same steps."""
    if not records:
        raise ValueError("seed_curves needs at least one record")
    steps = [row["step"] for row in records[0]["curve"]]
    for r in records[1:]:
        if [row["step"] for row in r["curve"]] != steps:
            raise ValueError(f"records of {records[0].get('name')!r} differ in their steps")
    curves = np.array([[row["mean"] for row in r["curve"]] for r in records], dtype=float)
    return np.array(steps), curves


def time_to_threshold(record: dict, threshold: float) -> tuple[float, int] | None:
    """``(seconds, step)`` at the first evaluation of ``record``'s curve whose mean return is at
    least ``threshold``: the training time so far (evaluation excluded, ``curve_seconds``) and
    the environment steps; ``None`` if the run never reached it. Raises ``ValueError`` for a
    record without ``curve_seconds`` (written before they were recorded, or by an offline runner)."""
    seconds = record.get("curve_seconds")
    if seconds is None or len(seconds) != len(record["curve"]):
        raise ValueError(
            f"record {record.get('name')!r} (seed {record.get('seed')}) has no training time for "
            f"each row of its curve (curve_seconds); run it again with this version of rlbook"
        )
    for row, t in zip(record["curve"], seconds, strict=True):
        if row["mean"] >= threshold:
            return float(t), int(row["step"])
    return None


def threshold_table(
    groups: dict[str, list[dict]], threshold: float = -200.0, algos=("td3", "sac")
) -> str:
    """The table of ``benchmarks/time_to_threshold.py``: for each algorithm in ``algos``, rlbook's
    run (records named ``algo``) and SB3's (``sb3-algo``) from ``groups`` (as :func:`load_records`
    returns them): how many seeds reached ``threshold``, the training seconds (mean, range) and
    steps until they did (:func:`time_to_threshold`), the final return (mean +- std over seeds)
    and steps per second; then SB3's time over rlbook's, of the means and per seed (a seed that
    never reached it counts as an infinite time)."""
    lines = [  # at most 80 characters a line (the book's code column)
        f"{'algo':4s} {'library':13s} {'seeds':>5s} {'hit':>3s} {'s to ' + f'{threshold:g}':>19s} "
        f"{'steps':>6s} {'final return':>14s} {'step/s':>6s}"
    ]
    ratios = []
    for algo in algos:
        times, ours_label = {}, "rlbook-laptop"
        for name, lib in ((algo, "rlbook laptop"), (f"sb3-{algo}", "SB3 zoo")):
            rs = groups.get(name, [])
            if not rs:
                continue
            if name == algo and _path(rs) != "single":
                lib = "rlbook batch" if _path(rs) == "batched" else "rlbook mixed"
                ours_label = lib.replace(" ", "-")  # a batched seed's time is the batch's
            hits = [time_to_threshold(r, threshold) for r in rs]
            times[name] = {r["seed"]: h[0] if h else np.inf for r, h in zip(rs, hits, strict=True)}
            reached = [h for h in hits if h]
            secs = np.array([h[0] for h in reached]) if reached else np.array([np.nan])
            steps = np.array([h[1] for h in reached]) if reached else np.array([np.nan])
            final = np.array([r["final_return"] for r in rs])
            sps = np.mean([r["steps_per_second"] for r in rs])
            lines.append(
                f"{algo:4s} {lib:13s} {len(rs):5d} {len(reached):3d} "
                f"{secs.mean():6.1f} ({secs.min():4.1f}-{secs.max():4.1f}) {steps.mean():6.0f} "
                f"{final.mean():7.1f} +- {final.std():4.1f} {sps:6.0f}"
            )
        if len(times) == 2:
            ours, peer = times[algo], times[f"sb3-{algo}"]
            seeds = sorted(set(ours) & set(peer))

            def ratio(a, b):
                return "n/a" if not (np.isfinite(a) or np.isfinite(b)) else f"{a / b:.1f}"

            per_seed = [ratio(peer[s], ours[s]) for s in seeds]
            mean = ratio(np.mean([peer[s] for s in seeds]), np.mean([ours[s] for s in seeds]))
            ratios.append(
                f"{algo}: SB3-zoo / {ours_label} time to {threshold:g}: {mean}x\n"
                f"    (per seed {', '.join(per_seed)})"
            )
    note = "(seconds and steps: mean and range over the seeds that reached the threshold)"
    if any(_path(groups.get(a, [])) == "batched" for a in algos if groups.get(a)):
        note += (
            "\n(rlbook batch: its seeds trained as one batch, their seconds on its clock;"
            "\n for the time of a set of seeds, see seed_set_table)"
        )
    return "\n".join([*lines, note, "", *ratios])


def _path(records: list[dict]) -> str:
    """``"batched"``, ``"single"`` (records without ``path`` were all single runs) or
    ``"mixed"``."""
    paths = {r.get("path", "single") for r in records}
    return paths.pop() if len(paths) == 1 else "mixed"


def seeds_to_threshold(records: list[dict], threshold: float = -200.0, processes: int = 1) -> dict:
    """When each seed of a set of runs (``records``, one per seed, as :func:`load_records` groups
    them) first reached ``threshold``, on the wall clock of the whole set run in ``processes``
    worker processes (training time only, evaluation excluded: ``curve_seconds``).

    The tasks are the single runs and the batches (records of one ``batch_seeds``), in the order
    of their first seed, each given to the process that frees first (as joblib's local processes
    take the next job); a task holds its process until all its seeds have reached the threshold
    (stopped there: the least time any schedule of these runs needs), or for its whole recorded
    ``train_seconds`` if one never did. A seed's time is its task's start plus its own
    :func:`time_to_threshold`; the seeds of a batch share its clock. Times are the recorded ones,
    measured with whatever ran beside them. Returns ``seconds`` (per seed; ``inf``: never),
    ``all`` (the time until every seed had reached it), ``mean`` (over the seeds), ``path``
    (:func:`_path`) and ``processes``."""
    if not records:
        raise ValueError("seeds_to_threshold needs at least one record")
    processes = check_int("processes", processes, 1)
    tasks: dict[tuple, list[dict]] = {}
    for r in sorted(records, key=lambda r: r["seed"]):
        key = ("batch", *r["batch_seeds"]) if r.get("path") == "batched" else ("run", r["seed"])
        tasks.setdefault(key, []).append(r)
    free = [0.0] * processes
    seconds = {}
    for task in tasks.values():
        hits = [time_to_threshold(r, threshold) for r in task]
        own = [h[0] if h else np.inf for h in hits]
        busy = max(own) if all(hits) else max(r["train_seconds"] for r in task)
        k = int(np.argmin(free))
        for r, t in zip(task, own, strict=True):
            seconds[r["seed"]] = free[k] + t
        free[k] += busy
    times = np.array(list(seconds.values()))
    return {
        "seconds": seconds,
        "all": float(times.max()),
        "mean": float(times.mean()),
        "path": _path(records),
        "processes": processes,
    }


def seed_set_table(
    groups: dict[str, list[dict]],
    threshold: float = -200.0,
    algos=("td3", "sac"),
    single: dict[str, list[dict]] | None = None,
    processes: int = 2,
) -> str:
    """Per algorithm, the wall time until every seed of a set first reached ``threshold``, and
    the mean over its seeds (:func:`seeds_to_threshold`): rlbook's records in ``groups`` (named
    ``algo``: a batch in one process, or single runs) and in ``single`` (another set's single
    runs of rlbook, e.g. the earlier records of a set now made batched), single runs one after
    another (1 process) and ``processes`` at a time; SB3's (``sb3-algo``) ``processes`` at a
    time."""
    lines = [
        f"{'algo':4s} {'runs':20s} {'procs':>5s} {'all seeds':>10s} {'mean':>7s} {'hit':>5s}",
    ]
    for algo in algos:
        rows = []
        for source in (groups, single or {}):
            rs = source.get(algo, [])
            if not rs:
                continue
            if _path(rs) == "batched":
                batches = len({tuple(r["batch_seeds"]) for r in rs})
                rows.append((f"rlbook, {batches} batch" + "es" * (batches > 1), rs, batches))
            else:
                rows += [("rlbook, single runs", rs, 1), ("rlbook, single runs", rs, processes)]
        if groups.get(f"sb3-{algo}"):
            rows.append(("SB3, single runs", groups[f"sb3-{algo}"], processes))
        for label, rs, procs in rows:
            got = seeds_to_threshold(rs, threshold, procs)
            hit = sum(np.isfinite(t) for t in got["seconds"].values())
            lines.append(
                f"{algo:4s} {label:20s} {procs:5d} {got['all']:9.1f}s "
                f"{got['mean']:6.1f}s {hit:2d}/{len(rs)}"
            )
    note = (
        f"(training seconds until every seed, and each on average, first reached "
        f"{threshold:g},\n on the clock of the whole set; a run stops there, freeing its process)"
    )
    return "\n".join([*lines, note])


def _json_default(x):
    if isinstance(x, np.generic):
        return x.item()
    if isinstance(x, np.ndarray):
        return x.tolist()
    if dataclasses.is_dataclass(x) and not isinstance(x, type):
        return dataclasses.asdict(x)
    return str(x)
