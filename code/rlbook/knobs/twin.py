"""The twin-min knob: critic estimates against Monte Carlo returns (Algorithm ``td3``)."""

from __future__ import annotations

from typing import Any

import matplotlib.pyplot as plt

from ..plotting import bootstrap_band, plot_seed_band
from ..validation import check_choice
from .layout import _finish
from .td3_runs import _same_limits, late_mean, td3_seeds, variant_arrays

# --------------------------------------------------------------------------------------------
# twin-min
# --------------------------------------------------------------------------------------------
TWINS = ("none", "min", "mean")
TWIN_LABELS = {
    "none": "single critic",
    "min": "min of two (TD3)",
    "mean": "mean of two",
}
#: the rules of the five-seed record, in the figures' order: DDPG's target (one critic, no target
#: smoothing, no policy delay), then TD3 with one critic, the mean of two and the minimum of two
RULES = ("ddpg", "none", "mean", "min")
RULE_LABELS = {"ddpg": "DDPG's target", **TWIN_LABELS}
RULE_CHANGES = {
    "ddpg": dict(twin="none", smoothing=False, policy_delay=1),
    "none": dict(twin="none"),
    "mean": dict(twin="mean"),
    "min": dict(twin="min"),
}


def rule_seeds(
    rule: str, seeds=range(5), total_steps: int | None = None, progress: bool = False
) -> dict:
    """Five seeds (one batch) of one rule of :data:`RULES` with the knobs' settings: a variant in
    the format of the twin record, for the live panel."""
    check_choice("rule", rule, RULES)
    return {rule: td3_seeds(seeds, total_steps, progress, **RULE_CHANGES[rule])}


def bias_summary(variants: dict) -> dict:
    """Per rule: the bias over the second half of training, one value per seed, and the mean over
    seeds with its 95% bootstrap interval, ``(mean, low, high, per_seed)``."""
    out = {}
    for rule, variant in variants.items():
        a = variant_arrays(variant)
        per_seed = late_mean(a["bias"], a["step"])
        mean, lo, hi = bootstrap_band(per_seed[:, None])
        out[rule] = (float(mean[0]), float(lo[0]), float(hi[0]), per_seed)
    return out


def draw_twin_record(variants: dict, highlight: str | None = None):
    """Left: the first critic's bias (estimate minus Monte Carlo return) against steps; right:
    the learning curves; per rule, the mean over seeds and its 95% bootstrap interval. The rule
    ``highlight`` also shows each seed (thin lines); the others are drawn faint."""
    fig, axes = plt.subplots(1, 2, figsize=(7.5, 3.6))
    for k, (rule, variant) in enumerate(variants.items()):
        a = variant_arrays(variant)
        strong = highlight is None or rule == highlight
        style: dict[str, Any] = dict(color=f"C{RULES.index(rule) if rule in RULES else k}", ls="-")
        style["alpha"] = 1 if strong else 0.5
        label = RULE_LABELS.get(rule, rule)
        plot_seed_band(axes[0], a["step"], a["bias"], label, runs=rule == highlight, **style)
        plot_seed_band(axes[1], a["step"], a["returns"], label, runs=rule == highlight, **style)
    _same_limits(axes, variants, ("bias", "returns"))
    axes[0].axhline(0, color="k", lw=0.8)
    axes[0].set(
        xlabel="environment steps",
        ylabel="estimate - MC return",
        title="bias of the first critic (> 0: over)",
    )
    axes[1].set(xlabel="environment steps", ylabel="return (10 starts)", title="learning curves")
    return _finish(fig, axes)
