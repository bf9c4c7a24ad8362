"""The tau knob: how far an EMA target lags, and TD3's learning curves for several tau."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch
from torch import nn

from ..targets import ema_update, make_target
from ..validation import check_int, check_real
from .td3_runs import _td3_run


# --------------------------------------------------------------------------------------------
# tau
# --------------------------------------------------------------------------------------------
def ema_lag_experiment(
    tau: float, steps: int | None = None, drift: float = 1e-3, seed: int = 0
) -> dict:
    """An online parameter that drifts like a training run (a ramp with random-walk noise) and
    its EMA target, updated by :func:`rlbook.targets.ema_update` itself at every step.

    For a ramp of slope ``drift`` the target settles ``(1 - tau) / tau`` steps behind; the lag is
    measured as the shift that best aligns the two traces over the second half of the run, which
    is ``steps`` long (default: long enough for the target to settle, ``max(1500, 8 / tau)``).
    """
    tau = check_real("tau", tau, 0.0, 1.0, low_open=True)
    steps = check_int("steps", max(1500, int(8 / tau)) if steps is None else steps, 10)
    rng = np.random.default_rng(seed)
    online = nn.Linear(1, 1, bias=False)
    with torch.no_grad():
        online.weight.zero_()
    target = make_target(online)
    walk = np.cumsum(rng.normal(0.0, 3 * drift, steps))
    theta = drift * np.arange(steps) + walk
    trace_online, trace_target = np.empty(steps), np.empty(steps)
    for t in range(steps):
        with torch.no_grad():
            online.weight.fill_(float(theta[t]))
        ema_update(target, online, tau)
        trace_online[t] = online.weight.item()
        trace_target[t] = target.weight.item()
    half = steps // 2
    shifts = np.arange(0, half)
    errors = [
        np.mean((trace_target[half:] - trace_online[half - k : steps - k]) ** 2) for k in shifts
    ]
    return dict(
        tau=tau,
        t=np.arange(steps),
        online=trace_online,
        target=trace_target,
        lag_measured=int(shifts[int(np.argmin(errors))]),
        lag_predicted=(1 - tau) / tau,
    )


def draw_ema_lag(data: dict):
    fig, ax = plt.subplots(figsize=(6.5, 3.2))
    ax.plot(data["t"], data["online"], color="tab:blue", lw=1, label=r"online $\theta_t$")
    ax.plot(data["t"], data["target"], color="tab:orange", lw=1.6, label=r"target $\theta^-_t$")
    ax.set(xlabel="update t", ylabel="parameter value")
    ax.set_title(
        rf"$\tau$ = {data['tau']:g}: target lags {data['lag_measured']} steps "
        rf"(predicted $(1-\tau)/\tau$ = {data['lag_predicted']:.0f})",
        fontsize=10,
    )
    ax.legend(frameon=False)
    fig.tight_layout()
    return fig


def draw_ema_lag_grid(runs: Sequence[dict]):
    """Measured lag of the EMA target against the prediction ``(1 - tau) / tau``, across tau."""
    fig, ax = plt.subplots(figsize=(5, 3.2))
    tau = np.array([run["tau"] for run in runs])
    measured = np.array([run["lag_measured"] for run in runs])
    grid = np.geomspace(tau.min(), tau.max(), 100)
    ax.plot(grid, (1 - grid) / grid, "k--", lw=1, label=r"$(1-\tau)/\tau$")
    ax.plot(tau, measured, "o", color="tab:orange", label="measured")
    ax.set_xscale("log")
    ax.set_yscale("symlog", linthresh=1)  # linear near 0, so that the lag 0 of tau = 1 shows
    top = 2 * max(1.0, measured.max(), (1 - tau.min()) / tau.min())
    ax.set_ylim(-0.2, top)  # lags are >= 0: no negative decades below the axis
    ax.set(xlabel=r"EMA rate $\tau$", ylabel="lag of the target (updates)")
    ax.legend(frameon=False)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def tau_curves(
    taus: Sequence[float] = (0.005, 0.02, 1.0), seed: int = 0, progress: bool = False
) -> dict:
    """TD3 learning curves (settings :data:`KNOB_TD3`) for each EMA rate in ``taus``."""
    taus = [check_real("tau", t, 0.0, 1.0, low_open=True) for t in taus]
    return {tau: _td3_run(seed, progress, tau=tau) for tau in taus}


def draw_tau_curves(results: dict, highlight: float | None = None):
    fig, ax = plt.subplots(figsize=(6.5, 3.4))
    for tau, res in results.items():
        steps, mean, _ = res.curve_arrays()
        strong = highlight is None or tau == highlight
        ax.plot(
            steps,
            mean,
            marker="o",
            ms=3,
            lw=2 if strong else 1,
            alpha=1 if strong else 0.3,
            label=rf"$\tau$ = {tau:g}",
        )
    ax.set(xlabel="environment steps", ylabel="evaluation return (10 starts)")
    ax.set_title("TD3 on Pendulum-v1 for several EMA rates", fontsize=10)
    ax.legend(frameon=False, fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig
