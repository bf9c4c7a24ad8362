"""The path-length knob: PCL on the corridor for several d (Algorithm ``pcl``)."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np

from .. import pcl
from ..validation import check_int
from .layout import _finish

#: one dash pattern per d (the book's, rlbook.plotting.BOOK_LINESTYLES, when its style is on)
LINESTYLES = ("-", (0, (6, 2)), (0, (1, 1.5)), (0, (6, 2, 1, 2)), (0, (3, 1.5)))


# --------------------------------------------------------------------------------------------
# path length d
# --------------------------------------------------------------------------------------------
def pcl_path_length(
    d: int,
    episodes: int = 400,
    demonstrations: int = 5,
    lam: float = 0.0,
    seed: int = 0,
    progress: bool = False,
) -> dict:
    """PCL on the corridor of the PCL chapter (``DeterministicMDP.chain(15, step_cost=0.01)``,
    gamma 0.95, alpha 0.1, episodes of 30 steps from the left end) with ``demonstrations``
    expert episodes in the replay buffer, for path length ``d``. Returns, every 20 episodes, the distance of v and pi
    to the exact soft optimum and the mean consistency loss ``C^2 / 2`` of the updates since the
    previous point."""
    d = check_int("d", d, 1)
    mdp = pcl.DeterministicMDP.chain(n_states=15, step_cost=0.01)
    gamma, alpha = 0.95, 0.1
    _, _, pi_star = pcl.soft_value_iteration(mdp, gamma, alpha)  # the expert's actions
    config = pcl.PCLConfig(
        gamma=gamma,
        alpha=alpha,
        d=d,
        lam=lam,
        lr_pi=0.05,
        lr_v=0.1,
        optimizer="adam",
        episode_length=30,
        replay_updates=1,
        start=0,
        total_steps=episodes * 30,
        eval_every=20 * 30,  # every 20 iterations
    )
    expert, demos = pi_star.argmax(1), []
    for _ in range(demonstrations):
        actions, s = [], 0
        for _ in range(config.episode_length):
            actions.append(expert[s])
            s = mdp.next_state[s, expert[s]]
        demos.append(pcl.rollout(mdp, None, config.episode_length, None, start=0, actions=actions))
    result = pcl.train(mdp, config, seed=seed, demonstrations=demos, progress=progress)
    curve = pcl.distances(result)  # the distances to pcl.train's exact (v*, pi*)
    loss = np.array([row["loss"] for row in result.curve])  # mean C^2/2 per 20 iterations
    return dict(d=d, episode=curve[:, 0], v_error=curve[:, 1], pi_error=curve[:, 2], loss=loss)


def draw_pcl_path_length(runs: Sequence[dict], highlight: int | None = None):
    """Left: the distance of v to the exact optimum; right: the consistency loss; one line per
    run (a colour and a dash pattern per d), one legend above both panels. ``highlight``: the d
    drawn strong, the others faint."""
    fig, axes = plt.subplots(1, 2, figsize=(7.5, 3.6))
    for k, run in enumerate(runs):
        strong = highlight is None or run["d"] == highlight
        style = dict(
            color=f"C{k}",
            ls=LINESTYLES[k % len(LINESTYLES)],
            alpha=1 if strong else 0.45,
            lw=2 if strong else 1,
        )
        axes[0].semilogy(run["episode"], run["v_error"], label=f"d = {run['d']}", **style)
        axes[1].semilogy(run["episode"], run["loss"], label=f"d = {run['d']}", **style)
    axes[0].set(
        xlabel="iterations (episodes)",
        ylabel=r"$\max_s |v(s) - v^*(s)|$",
        title="distance to the optimum",
    )
    axes[1].set(
        xlabel="iterations (episodes)",
        ylabel=r"mean $C^2/2$ of the updates",
        title="consistency loss",
    )
    return _finish(fig, axes)
