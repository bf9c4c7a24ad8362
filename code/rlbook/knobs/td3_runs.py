"""The TD3 runs the tau and twin-min knobs share, and the critic's bias they measure.

The chapter's static figures show the committed five-seed records of
``benchmarks/chapter_seeds.py`` (:func:`seed_record`: :data:`KNOB_TD3` with 20,000 steps); the
live panels train five seeds as one batch with :data:`KNOB_TD3` (:func:`td3_seeds`; 6,000 steps
by default, up to 20,000 with their slider), in the records' format.
"""

from __future__ import annotations

from typing import cast

import gymnasium as gym
import numpy as np
import torch

from .. import results, td3
from ..agent import check_seeds
from ..loop import SeedResults
from ..presets import KNOB_TD3  # the preset lives in rlbook.presets; re-exported by rlbook.knobs


def critic_bias(agent, step: int = 0, starts: int = 10, horizon: int = 500) -> dict:
    """The first critic's estimate ``q_a(s_0, policy(s_0))`` against the discounted Monte Carlo
    return of the same deterministic policy, averaged over the start states ``reset(seed=i)``,
    i < ``starts``, of Pendulum-v1.

    The rollouts run ``horizon`` steps without the 200-step time limit: the critic, which
    bootstraps through truncation, estimates the infinite-horizon value, and ``gamma^horizon``
    bounds what is cut off. Usable as the ``callback`` of ``train``.
    """
    gamma = agent.config.gamma
    envs = [gym.make("Pendulum-v1", max_episode_steps=horizon) for _ in range(starts)]
    obs = np.stack([env.reset(seed=i)[0] for i, env in enumerate(envs)]).astype(np.float32)
    with torch.no_grad():
        o = agent._obs_tensor(obs)
        estimate = agent.q(o, agent.policy(o), members=slice(0, 1))[0].cpu().numpy()
    returns, discount = np.zeros(starts), 1.0
    for _ in range(horizon):
        actions = agent.act_batch(obs)
        for i, env in enumerate(envs):
            o_i, r, *_ = env.step(actions[i])
            obs[i] = o_i
            returns[i] += discount * float(r)
        discount *= gamma
    for env in envs:
        env.close()
    return {"estimate": float(estimate.mean()), "mc_return": float(returns.mean())}


def seed_record(name: str) -> dict:
    """A committed five-seed record of ``benchmarks/chapter_seeds.py`` (``"twin"``, ``"tau"``,
    ``"ddpg"``, ``"td3"``, ``"sac"``): settings, command, CPU, commit, and per variant the runs."""
    return results.load_json("chapter-seeds", name)


def td3_seeds(
    seeds=range(5), total_steps: int | None = None, progress: bool = False, **changes
) -> dict:
    """TD3 with :data:`KNOB_TD3` and ``changes`` for the ``seeds``, trained as one batch, the
    critic's bias measured at every evaluation: one variant of a record, in its format.
    ``total_steps`` defaults to :data:`KNOB_TD3`'s."""
    seeds = check_seeds(seeds)
    steps = KNOB_TD3["total_steps"] if total_steps is None else total_steps
    config = td3.TD3Config(**{**KNOB_TD3, "total_steps": steps, **changes})
    batch = cast(  # seeds= gives a batch
        SeedResults,
        td3.train("Pendulum-v1", config, seeds=seeds, progress=progress, callback=critic_bias),
    )
    return {
        "changes": changes,
        "runs": [
            {
                "seed": seed,
                "step": [row["step"] for row in run.curve],
                "return": [row["mean"] for row in run.curve],
                "estimate": [log["estimate"] for log in run.logs],
                "mc_return": [log["mc_return"] for log in run.logs],
            }
            for seed, run in zip(seeds, batch.runs, strict=True)
        ],
    }


def _same_limits(axes, variants: dict, fields: tuple[str, str]) -> None:
    """Each panel's y-range from every seed of every variant, so that a knob's figures share
    their axes and the plot does not jump when another variant is highlighted (only the
    highlighted one draws its seeds)."""
    for ax, field in zip(axes, fields, strict=True):
        values = np.concatenate([variant_arrays(v)[field].ravel() for v in variants.values()])
        lo, hi = float(np.nanmin(values)), float(np.nanmax(values))
        pad = 0.05 * (hi - lo or 1.0)
        ax.set_ylim(lo - pad, hi + pad)


def variant_arrays(variant: dict) -> dict:
    """A record variant's runs as arrays: ``step`` (evaluations), and one row per seed of
    ``returns`` and, where measured, ``bias`` (the first critic's estimate minus the Monte Carlo
    return, at the 10 start states)."""
    runs = variant["runs"]
    out = {
        "step": np.asarray(runs[0]["step"]),
        "returns": np.array([r["return"] for r in runs]),
        "seeds": [r["seed"] for r in runs],
    }
    if "estimate" in runs[0]:
        out["bias"] = np.array([np.subtract(r["estimate"], r["mc_return"]) for r in runs])
    return out


def late_mean(values: np.ndarray, step: np.ndarray) -> np.ndarray:
    """Each seed's mean over the evaluations of the second half of training (rows: seeds)."""
    late = step > step[-1] / 2
    return np.asarray(values)[:, late].mean(axis=1)
