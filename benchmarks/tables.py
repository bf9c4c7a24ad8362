"""Text tables of sweep records for the benchmark scripts' output (records grouped by run name,
as ``rlbook.sweep.load_records`` returns them).

- :func:`final_table`: per run, seeds, final return (mean +- std over seeds), steps per second,
  and the path that made the records (``single`` or ``batched``, see ``rlbook.sweep.BatchJob``)
  (``pendulum.py``);
- :func:`final_ci_table`: the same with a 95% confidence interval, and rlbook's steps per second
  over SB3's (``mujoco_tasks.py``);
- :func:`peer_table`: each rlbook algorithm beside its SB3 peer: returns, steps per second and
  their ratio (``pendulum.py``, for the pairs it ran; a batched rlbook run's steps per second
  are one seed's, the batch's over its size).

The time-to-threshold table stays in the package (``rlbook.sweep.threshold_table``): the
Benchmarks chapter prints it, and a chapter opened alone (on Colab) has only the package.
"""

from __future__ import annotations

import numpy as np

from rlbook.plotting import confidence_band

__all__ = ["final_ci_table", "final_table", "path", "peer_table"]


def path(records: list[dict]) -> str:
    """How the records were made: ``single`` (one process per seed; records written before the
    field existed were all single runs), ``batched`` (``rlbook.sweep.BatchJob``) or ``mixed``."""
    paths = {r.get("path", "single") for r in records}
    return paths.pop() if len(paths) == 1 else "mixed"


def final_table(groups: dict[str, list[dict]]) -> str:
    """Per run: seeds, final return (mean +- std over seeds), mean steps per second (of one seed:
    for a batch, the batch's over its size), and the :func:`path` that made the records."""
    lines = [f"{'run':10s} {'seeds':>5s} {'final return':>18s} {'steps/s':>9s} path"]
    for name, rs in groups.items():
        ret = np.array([r["final_return"] for r in rs])
        sps = np.mean([r["steps_per_second"] for r in rs])
        lines.append(
            f"{name:10s} {len(rs):5d} {ret.mean():9.1f} +- {ret.std():5.1f} {sps:9.1f} {path(rs)}"
        )
    return "\n".join(lines)


def final_ci_table(groups: dict[str, list[dict]], algos=("td3", "sac")) -> str:
    """Per run: seeds, final return (mean and 95% confidence interval over seeds), mean steps per
    second; then, for each of ``algos`` run by both libraries, rlbook's steps per second over
    SB3's."""
    lines = [f"{'run':8s} {'seeds':>5s} {'final return [95% CI]':>30s} {'steps/s':>8s}"]
    sps = {}
    for name, rs in groups.items():
        m, lo, hi = confidence_band([[r["final_return"]] for r in rs])
        sps[name] = np.mean([r["steps_per_second"] for r in rs])
        lines.append(
            f"{name:8s} {len(rs):5d} {m[0]:10.1f} [{lo[0]:8.1f}, {hi[0]:8.1f}] {sps[name]:8.1f}"
        )
    for algo in algos:
        if algo in sps and f"sb3-{algo}" in sps:
            lines.append(
                f"{algo}: rlbook / SB3 steps per second {sps[algo] / sps[f'sb3-{algo}']:.2f}"
            )
    return "\n".join(lines)


def peer_table(groups: dict[str, list[dict]], algos=("ddpg", "td3", "sac")) -> str:
    """Each of ``algos`` whose rlbook run (records named ``algo``) and SB3 peer (``sb3-algo``)
    are both in ``groups``: the final return of each (mean +- std over seeds), their steps per
    second and rlbook's over SB3's. Empty when no pair is there."""
    pairs = [a for a in algos if groups.get(a) and groups.get(f"sb3-{a}")]
    if not pairs:
        return ""
    lines = [
        f"{'algo':5s} {'rlbook return':>16s} {'SB3 return':>16s} {'rlbook sps':>11s} "
        f"{'SB3 sps':>8s} {'sps ratio':>9s}"
    ]
    for algo in pairs:
        o, s = groups[algo], groups[f"sb3-{algo}"]
        ro = np.array([r["final_return"] for r in o])
        rs = np.array([r["final_return"] for r in s])
        so = np.mean([r["steps_per_second"] for r in o])
        ss = np.mean([r["steps_per_second"] for r in s])
        lines.append(
            f"{algo:5s} {ro.mean():8.1f} +- {ro.std():5.1f} {rs.mean():8.1f} +- {rs.std():5.1f} "
            f"{so:11.1f} {ss:8.1f} {so / ss:9.2f}"
        )
    batched = [a for a in pairs if path(groups[a]) != "single"]
    if batched:
        lines.append(
            f"({', '.join(batched)}: rlbook's seeds as one batch; its steps per second are one "
            f"seed's, the batch's over its size)"
        )
    return "\n".join(lines)
