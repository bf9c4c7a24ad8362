"""The computations behind the book's four knobs, each a pure function of the knob's value.

- **OU noise** (:func:`ou_experiment`): sample paths and autocorrelation of Ornstein-Uhlenbeck
  noise against Gaussian noise of the same root-mean-square size over an episode, and the
  pendulum trajectories each produces when it is the only input (Algorithm ``ddpg`` line 6.3);
- **tau** (:func:`ema_lag_experiment`, :func:`tau_seeds`): how far an EMA target lags the online
  parameters, and five seeds of TD3 for any tau;
- **twin critics** (:func:`rule_seeds`): critic estimates against Monte Carlo returns of the same
  policy, five seeds for each target rule: DDPG's, a single critic, the minimum of two and their
  mean (Algorithm ``td3``).

The TD3 chapter's static figures draw the committed five-seed records of
``benchmarks/chapter_seeds.py`` (:func:`seed_record`); the live panels train new seeds.
- **path length d** (:func:`pcl_path_length`): PCL's distance to the exact optimum and its
  consistency loss during training on the corridor of the PCL chapter (Algorithm ``pcl``).

Each ``draw_*`` function turns the returned data into a matplotlib figure; :mod:`rlbook.widgets`
puts both behind sliders. Keeping computation and drawing apart lets the tests compare what a
widget shows with a direct call.
"""

from .ou import autocorrelation, draw_ou, draw_ou_grid, ou_experiment, swing_angle
from .path_length import draw_pcl_path_length, pcl_path_length
from .tau import (
    draw_ema_lag,
    draw_ema_lag_grid,
    draw_tau_record,
    ema_lag_experiment,
    tau_seeds,
    tau_summary,
)
from .td3_runs import KNOB_TD3, critic_bias, seed_record, td3_seeds, variant_arrays
from .twin import (
    RULE_LABELS,
    RULES,
    TWIN_LABELS,
    TWINS,
    bias_summary,
    draw_twin_record,
    rule_seeds,
)

__all__ = [
    "KNOB_TD3",
    "RULES",
    "RULE_LABELS",
    "bias_summary",
    "draw_tau_record",
    "draw_twin_record",
    "rule_seeds",
    "seed_record",
    "tau_seeds",
    "tau_summary",
    "td3_seeds",
    "variant_arrays",
    "TWINS",
    "TWIN_LABELS",
    "autocorrelation",
    "critic_bias",
    "draw_ema_lag",
    "draw_ema_lag_grid",
    "draw_ou",
    "draw_ou_grid",
    "draw_pcl_path_length",
    "ema_lag_experiment",
    "ou_experiment",
    "pcl_path_length",
    "swing_angle",
]
