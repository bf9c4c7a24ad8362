"""The twin-min knob: critic estimates against Monte Carlo returns (Algorithm {prf:ref}`td3`)."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np

from ..validation import check_choice
from .layout import _finish
from .td3_runs import _td3_run

# --------------------------------------------------------------------------------------------
# twin-min
# --------------------------------------------------------------------------------------------
TWINS = ("none", "min", "mean")
TWIN_LABELS = {
    "none": "single critic (DDPG)",
    "min": "min of two (TD3)",
    "mean": "mean of two",
}


def overestimation(twin: str = "min", seed: int = 0, progress: bool = False) -> dict:
    """A TD3 run (settings :data:`KNOB_TD3`) with the given ``twin`` rule, everything else equal;
    returns the steps, the critic's estimate and the Monte Carlo return at each evaluation."""
    check_choice("twin", twin, TWINS)
    res = _td3_run(seed, progress, twin=twin)
    return dict(
        twin=twin,
        step=np.array([log["step"] for log in res.logs]),
        estimate=np.array([log["estimate"] for log in res.logs]),
        mc_return=np.array([log["mc_return"] for log in res.logs]),
        result=res,
    )


def draw_overestimation(runs: Sequence[dict], highlight: str | None = None):
    """Left: estimate (solid) and Monte Carlo return (dashed) per rule; right: their gap."""
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.3))
    for run in runs:
        color = f"C{TWINS.index(run['twin'])}"
        strong = highlight is None or run["twin"] == highlight
        style = dict(color=color, alpha=1 if strong else 0.25, lw=2 if strong else 1)
        label = TWIN_LABELS[run["twin"]]
        axes[0].plot(run["step"], run["estimate"], marker="o", ms=3, label=label, **style)
        axes[0].plot(run["step"], run["mc_return"], ls="--", **style)
        axes[1].plot(
            run["step"], run["estimate"] - run["mc_return"], marker="o", ms=3, label=label, **style
        )
    axes[0].set(
        xlabel="environment steps",
        ylabel="value at the start states",
        title="critic estimate (solid) vs Monte Carlo return (dashed)",
    )
    axes[1].axhline(0, color="k", lw=0.8)
    axes[1].set(
        xlabel="environment steps",
        ylabel="estimate - Monte Carlo return",
        title="bias of the critic (> 0: overestimation)",
    )
    return _finish(fig, axes)
