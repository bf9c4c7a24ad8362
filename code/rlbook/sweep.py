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
"""

from __future__ import annotations

import dataclasses
import json
import platform
import time
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

import joblib
import numpy as np

from . import runners
from .provenance import cpu_summary as cpu_summary  # re-exported: the exec_stats page names it
from .provenance import record_header
from .validation import check_int

__all__ = [
    "ALGORITHMS",
    "Job",
    "load_records",
    "run_job",
    "seed_curves",
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


def run_job(job: Job) -> dict:
    """Run one job; never raises: a failure is reported in the record's ``error``."""
    record = {
        "name": job.name,
        "seed": job.seed,
        "env": job.env,
        "settings": job.settings,
        "host": platform.node(),
        "error": None,
    }
    start = time.perf_counter()
    try:
        fn = ALGORITHMS[job.algorithm] if isinstance(job.algorithm, str) else job.algorithm
        record.update(fn(job.env, job.seed, **job.settings))
    except Exception:  # noqa: BLE001 - a crashed job is reported, the sweep goes on
        record["error"] = traceback.format_exc()
    record["wall_seconds"] = time.perf_counter() - start
    return record


def sweep(
    jobs: Iterable[Job],
    n_jobs: int = 1,
    out: str | Path | None = None,
    backend: str | None = None,
    verbose: int = 0,
) -> list[dict]:
    """Run ``jobs`` with ``joblib.Parallel(n_jobs)`` (``backend=None``: joblib's default, local
    processes, or whatever ``joblib.parallel_config`` set); returns their records in order.

    Records carry :func:`rlbook.provenance.record_header`. With ``out`` (a folder) each record is
    written to ``out/NAME-seedSEED.json`` as it arrives, so an interrupted sweep keeps what it
    finished.
    """
    jobs = list(jobs)
    for job in jobs:
        if not isinstance(job, Job):
            raise ValueError(f"jobs must be rlbook.sweep.Job objects; got {type(job).__name__}")
        if isinstance(job.algorithm, str) and job.algorithm not in ALGORITHMS:
            raise ValueError(
                f"algorithm must be one of {sorted(ALGORITHMS)} or a function; got {job.algorithm!r}"
            )
        check_int("seed", job.seed, 0)
    if n_jobs == 0:
        raise ValueError("n_jobs must be a positive number of workers or -1 (all cores); got 0")
    info = record_header()
    out = Path(out) if out is not None else None
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
    parallel = joblib.Parallel(
        n_jobs=n_jobs, backend=backend, return_as="generator", verbose=verbose
    )
    records = []
    for job, record in zip(jobs, parallel(joblib.delayed(run_job)(j) for j in jobs), strict=True):
        record = cast(dict, record)  # what run_job returns (joblib's stubs say Any | None)
        record.update(info)
        records.append(record)
        if out is not None:
            path = out / f"{job.name}-seed{job.seed}.json"
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
        times = {}
        for name, lib in ((algo, "rlbook laptop"), (f"sb3-{algo}", "SB3 zoo")):
            rs = groups.get(name, [])
            if not rs:
                continue
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
                f"{algo}: SB3-zoo / rlbook-laptop time to {threshold:g}: {mean}x\n"
                f"    (per seed {', '.join(per_seed)})"
            )
    note = "(seconds and steps: mean and range over the seeds that reached the threshold)"
    return "\n".join([*lines, note, "", *ratios])


def _json_default(x):
    if isinstance(x, np.generic):
        return x.item()
    if isinstance(x, np.ndarray):
        return x.tolist()
    if dataclasses.is_dataclass(x) and not isinstance(x, type):
        return dataclasses.asdict(x)
    return str(x)
