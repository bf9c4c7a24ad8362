"""Algorithm {prf:ref}`pcl` for continuous actions: :class:`GaussianPCL` on gymnasium environments.

- :class:`GaussianPolicy`: ``N(mu(s), sigma^2)`` with its mean inside the action box and a
  learned, state-independent, clamped ``sigma``; samples are not squashed (the environment clips
  them), so the density stays bounded.
- :class:`GaussianPCL`: :class:`rlbook.pcl.PCL` with that policy and an MLP value; the updates
  (lines 4.5.1-4.5.3) are PCL's unchanged, only ``log pi(a|s)`` is a log-density.
- :func:`rollout_env` (line 4.2 on a gymnasium environment) and :func:`train_env` (the loop of the
  box, with evaluation), whose default settings are :data:`PENDULUM`.

The algorithm itself (consistency error, replay, updates) is in :mod:`rlbook.pcl`, which also
makes every name of this module importable from it (``from rlbook.pcl import train_env``).
"""

from __future__ import annotations

import time

import numpy as np
import torch
from torch import nn

from .envs import check_box_env, env_factory
from .loop import Result, eval_row, evaluate, seeded_torch
from .mdp import Episode
from .networks import BoxRescale, mlp
from .pcl import PCL, PCLConfig
from .validation import check_int

__all__ = ["GaussianPCL", "GaussianPolicy", "PENDULUM", "rollout_env", "train_env"]


#: settings of continuous PCL on Pendulum-v1 (:func:`train_env`'s default). The reward scale is
#: what made it learn reliably: unscaled, two of three seeds tried were far from balancing after
#: 40,000 steps; scaled by 0.1, four of four balanced (see the PCL chapter, benchmarks/pendulum.py).
PENDULUM = dict(
    gamma=0.98,
    alpha=0.05,
    d=5,
    lr_pi=1e-3,
    lr_v=3e-3,
    optimizer="adam",
    replay_updates=200,
    capacity=1000,
    reward_scale=0.1,
)


class GaussianPolicy(nn.Module):
    """``N(mu(s), sigma^2)`` with ``mu(s) = center + scale * tanh(mlp(s))`` inside the action box
    and a state-independent ``log sigma`` (learned, clamped to ``[log(0.05 scale), log(scale)]``).

    Unlike SAC's squashed Gaussian, samples are not squashed: the environment clips them. The
    density therefore stays bounded (by the smallest sigma), which PCL needs: its policy update
    raises ``log pi`` of actions on good paths, and a squashed density can grow without bound by
    pushing its mass against the edge of the box (tried: the policy then saturates).
    """

    def __init__(self, obs_dim: int, low, high, hidden=(64, 64)):
        super().__init__()
        self.rescale = BoxRescale(low, high)  # the actors' map from [-1, 1] onto the box
        self.body = mlp(obs_dim, self.rescale.scale.numel(), hidden, activation=nn.Tanh)
        self.log_std = nn.Parameter(torch.log(self.rescale.scale.clone() * 0.5))

    def forward(self, obs):
        """The mean action (used for evaluation)."""
        return self.rescale(torch.tanh(self.body(obs)))

    def std(self):
        scale = self.rescale.scale
        return self.log_std.clamp(torch.log(0.05 * scale), torch.log(scale)).exp()

    def log_prob(self, obs, act):
        return torch.distributions.Normal(self(obs), self.std()).log_prob(act).sum(-1)

    def sample(self, obs, generator=None):
        mu = self(obs)
        eps = torch.randn(mu.shape, generator=generator, dtype=mu.dtype)
        return mu + self.std() * eps


class GaussianPCL(PCL):
    """PCL for a bounded continuous action space: ``pi_phi`` a :class:`GaussianPolicy`, ``v_psi``
    an MLP. The updates are PCL's (lines 4.5.1-4.5.3) unchanged: only ``log pi(a|s)`` differs
    from the discrete case. Episodes store the sampled (unclipped) actions, whose log-density the
    consistency error uses; the environment receives them clipped to the box."""

    def __init__(self, obs_dim: int, low, high, config: PCLConfig, hidden=(64, 64), seed: int = 0):
        with seeded_torch(seed):  # initial weights from the run's seed; the caller's generator kept
            policy = GaussianPolicy(obs_dim, low, high, hidden)
            value = mlp(obs_dim, 1, hidden, activation=nn.Tanh)
        super().__init__(policy, value, config, seed)  # pcl 1
        self.low = np.asarray(low, dtype=np.float32)
        self.high = np.asarray(high, dtype=np.float32)
        self.generator = torch.Generator().manual_seed(seed)

    def log_pi(self, obs, act):
        return self.policy.log_prob(obs, act)

    def probs(self, obs):
        raise NotImplementedError("a continuous policy has a density, not a table of probabilities")

    @torch.no_grad()
    def act_batch(self, obs) -> np.ndarray:
        """The mean action (for evaluation)."""
        return self.policy(torch.as_tensor(np.asarray(obs, dtype=np.float32))).numpy()

    @torch.no_grad()
    def sample(self, obs) -> np.ndarray:
        o = torch.as_tensor(np.asarray(obs, dtype=np.float32))[None]
        return self.policy.sample(o, self.generator)[0].numpy()


def rollout_env(env, agent: GaussianPCL, seed: int | None = None) -> Episode:
    """One episode of ``env`` with actions sampled from the agent's policy (line 4.2)."""
    obs, _ = env.reset(seed=seed)
    states, acts, rews = [obs], [], []
    while True:
        act = agent.sample(obs)
        obs, rew, terminated, truncated, _ = env.step(np.clip(act, agent.low, agent.high))
        states.append(obs)
        acts.append(act)
        rews.append(rew)
        if terminated or truncated:
            break
    return Episode(
        np.array(states, dtype=np.float32),
        np.array(acts, dtype=np.float32),
        np.array(rews, dtype=float),
        bool(terminated),
    )


def train_env(
    env="Pendulum-v1",
    config: PCLConfig | None = None,
    episodes: int = 60,
    seed: int = 0,
    hidden=(64, 64),
    eval_every: int = 5,
    eval_episodes: int = 10,
    demonstrations=(),
) -> Result:
    """Algorithm {prf:ref}`pcl` with :class:`GaussianPCL` on a gymnasium environment with a Box
    action space: each iteration samples an episode, stores it, updates on it and on
    ``replay_updates`` replayed episodes. Returns a :class:`~rlbook.loop.Result` whose ``curve``
    holds, every ``eval_every`` iterations, the environment steps so far and the mean and std of
    the deterministic returns on the episodes started by ``reset(seed=i)``, i < ``eval_episodes``
    (evaluation time in ``eval_time``, excluded from ``steps_per_second``). The default
    ``config`` is :data:`PENDULUM`."""
    check_int("episodes", episodes, 0)
    check_int("eval_every", eval_every, 1)
    config = PCLConfig(**PENDULUM) if config is None else config
    make_env = env_factory(env)
    e = make_env()
    space = check_box_env(e, "GaussianPCL")
    agent = GaussianPCL(
        int(np.prod(e.observation_space.shape)), space.low, space.high, config, hidden, seed
    )
    for ep in demonstrations:
        agent.replay.add(ep)
    e.action_space.seed(seed)
    result = Result(agent=agent, config=config, env=env)
    start = time.perf_counter()
    for n in range(episodes):
        ep = rollout_env(e, agent, seed=seed * 100_003 + n)  # pcl 4.2
        result.steps += len(ep.rewards)
        result.episodes.append((result.steps, ep.ret))
        agent.replay.add(ep)  # pcl 4.3
        agent.update_on_episode(ep)  # pcl 4.5
        for _ in range(config.replay_updates):
            agent.update_on_episode(agent.replay.sample())  # pcl 4.7-4.8
        agent.decay_learning_rates()
        if (n + 1) % eval_every == 0:
            t0 = time.perf_counter()
            result.curve_seconds.append(t0 - start - result.eval_time)
            returns = evaluate(agent.act_batch, make_env, range(eval_episodes))
            result.curve.append(eval_row(result.steps, returns))
            result.eval_time += time.perf_counter() - t0
    e.close()
    result.wall_time = time.perf_counter() - start
    return result
