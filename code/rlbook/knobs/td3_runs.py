"""The TD3 runs the tau and twin-min knobs share, and the critic's bias they measure."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import torch

from .. import td3

#: settings of the TD3 runs behind the tau and twin-min knobs: small networks and a short budget,
#: so that a grid of runs fits the chapter's execution budget on a laptop CPU
KNOB_TD3 = dict(
    total_steps=6_000,
    warmup_steps=1_000,
    hidden=(64, 64),
    gamma=0.98,
    tau=0.02,
    eval_every=1_000,
    eval_episodes=10,
)
_RUNS: dict = {}


def _td3_run(seed: int, progress: bool = False, **changes):
    """A TD3 run with :data:`KNOB_TD3` and ``changes``, with the critic bias measured at every
    evaluation; runs are cached, so the tau and twin-min knobs share the run they have in common."""
    config = td3.TD3Config(**{**KNOB_TD3, **changes})
    key = (seed, config)  # a frozen dataclass: equal settings, one run
    if key not in _RUNS:
        _RUNS[key] = td3.train(
            "Pendulum-v1", config, seed=seed, progress=progress, callback=critic_bias
        )
    return _RUNS[key]


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
            returns[i] += discount * r
        discount *= gamma
    for env in envs:
        env.close()
    return {"estimate": float(estimate.mean()), "mc_return": float(returns.mean())}
