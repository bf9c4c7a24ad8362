"""Pendulum-v1's optimum on the book's 100 fixed starts, and learned policies' returns beside it.

The book evaluates every Pendulum-v1 policy deterministically on the episodes started by
``reset(seed=i)``, i < 100, each 200 steps long. With the dynamics known and no noise, the best
return from each start is that of the best sequence of 200 torques in [-2, 2].
``benchmarks/pendulum_optimum.py`` searches for it (dynamic programming on a grid, refined per
start by iLQR from several initial sequences) and writes, for every start, the best sequence it
found and its return *measured* by stepping ``gymnasium``'s Pendulum-v1 with it. The record ships
inside the package, so a chapter opened alone finds it::

    from rlbook.optimum import pendulum_optimum
    best = pendulum_optimum()        # best.returns (100,), best.mean, best.actions (100, 200)

Being the best found, each return is a lower bound on that start's optimum; how close it is can be
judged from what no policy, learned or hand-written, has beaten (the tests of the package check
that every committed learned policy scores at most the record on every start).

``benchmarks/pendulum_optimum.py --learned`` trains DDPG, TD3 and SAC with the chapters' laptop
settings and records each final policy's return on every start; :func:`learned_returns` reads it.

Replaying a sequence (:func:`replay`) reproduces its return only with the same floating-point
arithmetic: the sequences hold the pendulum upright, an unstable equilibrium where a difference of
one unit in the last place of ``sin`` grows by about a fifth per step. The record names the numpy
version and the CPU it was made with.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import gymnasium as gym
import numpy as np

__all__ = [
    "LEARNED",
    "RECORD",
    "PendulumOptimum",
    "learned_returns",
    "pendulum_optimum",
    "replay",
]

_FOLDER = Path(__file__).resolve().parent / "results" / "pendulum-optimum"
#: the record of the best sequences found (``benchmarks/pendulum_optimum.py`` writes it)
RECORD = _FOLDER / "optimum.json"
#: learned policies' returns on each start (``benchmarks/pendulum_optimum.py --learned``)
LEARNED = _FOLDER / "learned.json"


@dataclass(frozen=True)
class PendulumOptimum:
    """The best return found from each fixed start: ``returns[i]`` is the measured return of the
    torque sequence ``actions[i]`` from ``reset(seed=seeds[i])``; ``mean`` is their mean."""

    seeds: np.ndarray
    returns: np.ndarray
    actions: np.ndarray
    mean: float
    record: dict


def _read(path: str | Path, command: str) -> dict:
    try:
        return json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise FileNotFoundError(
            f"no record at {path}; `{command}` (from the repository root) writes it"
        ) from None


def pendulum_optimum(path: str | Path | None = None) -> PendulumOptimum:
    """The best returns found on the 100 fixed starts of Pendulum-v1 (see the module's text)."""
    rec = _read(path or RECORD, "python benchmarks/pendulum_optimum.py")
    starts = rec["starts"]
    return PendulumOptimum(
        seeds=np.array([s["seed"] for s in starts]),
        returns=np.array([s["return"] for s in starts], dtype=float),
        actions=np.array([s["actions"] for s in starts], dtype=float),
        mean=float(rec["mean_return"]),
        record=rec,
    )


def learned_returns(path: str | Path | None = None) -> dict[str, np.ndarray]:
    """Each learned policy's return on every fixed start: ``{algo: array (seeds, starts)}``, rows
    in the order of the record's ``seeds`` and columns in that of its ``starts``."""
    rec = _read(path or LEARNED, "python benchmarks/pendulum_optimum.py --learned")
    out: dict[str, list] = {}
    for run in sorted(rec["runs"], key=lambda r: (r["algo"], r["seed"])):
        out.setdefault(run["algo"], []).append(run["returns"])
    return {algo: np.array(rows, dtype=float) for algo, rows in out.items()}


def replay(actions, seed: int, env_id: str = "Pendulum-v1") -> float:
    """The return of the torque sequence ``actions`` stepped in ``gym.make(env_id)`` from
    ``reset(seed=seed)``, as the book's evaluation sums it."""
    env = gym.make(env_id)
    env.reset(seed=int(seed))
    total = 0.0
    for a in np.asarray(actions, dtype=float):
        _, reward, terminated, truncated, _ = env.step(np.array([a]))
        total += float(reward)
        if terminated or truncated:
            break
    env.close()
    return float(total)
