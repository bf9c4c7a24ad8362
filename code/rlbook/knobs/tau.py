"""The tau knob: how far an EMA target lags, and TD3's learning curves for several tau."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import torch
from torch import nn

from ..plotting import bootstrap_band, plot_seed_band
from ..targets import ema_update, make_target
from ..validation import check_int, check_real
from .layout import _finish
from .td3_runs import _same_limits, late_mean, td3_seeds, variant_arrays


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
        rf"$\tau$ = {data['tau']:g}: target lags {data['lag_measured']} updates "
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


def tau_seeds(
    tau: float, seeds=range(5), total_steps: int | None = None, progress: bool = False
) -> dict:
    """Five seeds (one batch) of TD3 with the knobs' settings and EMA rate ``tau``: a variant in
    the format of the tau record, for the live panel."""
    tau = check_real("tau", tau, 0.0, 1.0, low_open=True)
    return {f"{tau:g}": td3_seeds(seeds, total_steps, progress, tau=tau)}


def tau_summary(variants: dict) -> dict:
    """Per tau: each seed's return at the first evaluation after 6,000 steps (or the last) and
    at the end, the mean bias over the second half, and bootstrap intervals of their means."""
    out = {}
    for tau, variant in variants.items():
        a = variant_arrays(variant)
        early = int(np.searchsorted(a["step"], min(6_000, a["step"][-1])))
        row: dict[str, Any] = {"early_step": int(a["step"][early])}
        for key, values in (
            ("early", a["returns"][:, early]),
            ("final", a["returns"][:, -1]),
            ("bias", late_mean(a["bias"], a["step"])),
        ):
            mean, lo, hi = bootstrap_band(np.asarray(values)[:, None])
            row[key] = (float(mean[0]), float(lo[0]), float(hi[0]), np.asarray(values))
        out[tau] = row
    return out


#: tau = 0.02 is the twin figure's "min of two (TD3)" run: the same colour in both figures, and
#: the other rates in colours the twin figure does not use
TAU_COLORS = {"0.005": "C4", "0.02": "C3", "0.1": "C5", "1": "C6"}


def draw_tau_record(variants: dict, highlight: str | None = None):
    """Left: TD3's learning curves for each tau; right: the first critic's bias; per tau, the
    mean over seeds and its 95% bootstrap interval. The tau ``highlight`` also shows each seed."""
    fig, axes = plt.subplots(1, 2, figsize=(7.5, 3.6))
    # a tau outside the record (the live panel's) gets a colour no recorded tau has
    free = iter(c for c in (f"C{i}" for i in range(10)) if c not in TAU_COLORS.values())
    for tau, variant in variants.items():
        a = variant_arrays(variant)
        strong = highlight is None or tau == highlight
        style: dict[str, Any] = dict(color=TAU_COLORS.get(tau) or next(free), ls="-")
        style["alpha"] = 1 if strong else 0.5
        label = rf"$\tau$ = {tau}"
        plot_seed_band(axes[0], a["step"], a["returns"], label, runs=tau == highlight, **style)
        plot_seed_band(axes[1], a["step"], a["bias"], label, runs=tau == highlight, **style)
    _same_limits(axes, variants, ("returns", "bias"))
    axes[1].axhline(0, color="k", lw=0.8)
    axes[0].set(xlabel="environment steps", ylabel="return (10 starts)", title="learning curves")
    axes[1].set(
        xlabel="environment steps",
        ylabel="estimate - MC return",
        title="bias of the first critic",
    )
    return _finish(fig, axes)
