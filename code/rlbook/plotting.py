"""Plots the chapters share: learning curves and a pendulum policy over its phase plane."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np

from .loop import Result

__all__ = [
    "bootstrap_band",
    "confidence_band",
    "pendulum_observations",
    "plot_learning_curves",
    "plot_pendulum_policy",
    "plot_seed_band",
]


def confidence_band(values, confidence: float = 0.95):
    """Mean over the first axis (seeds) and its two-sided Student-t confidence interval.

    With one seed the interval is undefined and returned as the mean itself.
    """
    from scipy import stats

    values = np.asarray(values, dtype=float)
    n = values.shape[0]
    mean = values.mean(axis=0)
    if n < 2:
        return mean, mean.copy(), mean.copy()
    half = stats.t.ppf(0.5 + confidence / 2, n - 1) * values.std(axis=0, ddof=1) / np.sqrt(n)
    return mean, mean - half, mean + half


def bootstrap_band(values, confidence: float = 0.95, resamples: int = 10_000, seed: int = 0):
    """Mean over the first axis (seeds) and the bootstrap percentile interval of that mean.

    The interval is the ``(1 - confidence) / 2`` and ``(1 + confidence) / 2`` quantiles of the
    means of ``resamples`` draws of the seeds with replacement (generator seeded by ``seed``), so
    it always lies within the seeds' own range: unlike the Student-t interval, it never leaves
    the bounds a return has (a Pendulum return is never positive). With few seeds it runs
    narrow (five seeds have only 126 distinct resamples).
    """
    values = np.asarray(values, dtype=float)
    n = values.shape[0]
    mean = values.mean(axis=0)
    if n < 2:
        return mean, mean.copy(), mean.copy()
    draws = np.random.default_rng(seed).integers(0, n, size=(resamples, n))
    means = values[draws].mean(axis=1)
    lo, hi = np.quantile(means, [(1 - confidence) / 2, (1 + confidence) / 2], axis=0)
    return mean, lo, hi


def plot_seed_band(ax, steps, curves, label: str, confidence: float = 0.95, **style):
    """Mean learning curve over seeds (rows of ``curves``) with the bootstrap percentile band of
    that mean (:func:`bootstrap_band`)."""
    mean, lo, hi = bootstrap_band(curves, confidence)
    (line,) = ax.plot(steps, mean, label=f"{label} (n={len(curves)})", **style)
    ax.fill_between(steps, lo, hi, color=line.get_color(), alpha=0.2, lw=0)
    return line


def plot_learning_curves(
    results: Mapping[str, Result | Sequence[Result]], ax=None, title: str | None = None
):
    """Evaluation return against environment steps, one line per entry of ``results``.

    An entry holding one result shades +-1 std over its evaluation episodes; an entry holding
    several results (seeds) plots their mean and shades +-1 std across seeds.
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3.5))
    for label, res in results.items():
        runs = [res] if isinstance(res, Result) else list(res)
        if not runs or not runs[0].curve:
            raise ValueError(f"result {label!r} has no learning curve (was eval_every 0?)")
        steps = runs[0].curve_arrays()[0]
        means = np.array([r.curve_arrays()[1] for r in runs])
        if len(runs) == 1:
            mean, spread = means[0], runs[0].curve_arrays()[2]
        else:
            mean, spread = means.mean(0), means.std(0)
        (line,) = ax.plot(steps, mean, label=label)
        ax.fill_between(steps, mean - spread, mean + spread, color=line.get_color(), alpha=0.2)
    ax.set_xlabel("environment steps")
    ax.set_ylabel("evaluation return")
    if title:
        ax.set_title(title)
    ax.legend(frameon=False)
    ax.grid(alpha=0.3)
    return ax


def pendulum_observations(theta: np.ndarray, theta_dot: np.ndarray) -> np.ndarray:
    """Pendulum-v1 observations ``(cos theta, sin theta, theta_dot)`` for arrays of angles/speeds."""
    return np.stack([np.cos(theta), np.sin(theta), theta_dot], axis=-1).astype(np.float32)


def plot_pendulum_policy(agent, ax=None, n: int = 121, title: str | None = None):
    """The deterministic action over the pendulum's phase plane (angle 0 is upright)."""
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 3.5))
    theta, theta_dot = np.meshgrid(np.linspace(-np.pi, np.pi, n), np.linspace(-8, 8, n))
    obs = pendulum_observations(theta.ravel(), theta_dot.ravel())
    actions = agent.act_batch(obs)[:, 0].reshape(theta.shape)
    mesh = ax.pcolormesh(
        theta, theta_dot, actions, cmap="coolwarm", vmin=-2, vmax=2, shading="auto"
    )
    plt.colorbar(mesh, ax=ax, label="torque")
    ax.set_xlabel("angle from upright (rad)")
    ax.set_ylabel("angular velocity (rad/s)")
    if title:
        ax.set_title(title)
    return ax
