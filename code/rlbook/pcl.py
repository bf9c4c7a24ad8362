"""Algorithm ``pcl``: Path Consistency Learning and Unified PCL (Nachum et al. 2017), for
discrete and for continuous actions. Everything PCL is in this module:

- :func:`consistency_error`: the d-step soft consistency error ``C(s_i:s_{i+d})`` for a batch of
  paths, given ``v`` and ``log pi`` along them; :func:`path_windows`: which paths an episode gives.
- :class:`EpisodeReplay`: whole episodes, sampled with probability proportional to
  ``exp(lambda * return)`` (computed as a softmax, so large returns do not overflow), capacity
  ``B`` with oldest-first removal.
- :class:`PCL` (separate policy ``pi_phi`` and value ``v_psi``) and :class:`UnifiedPCL` (one
  ``q_theta`` with ``v = alpha logsumexp(q/alpha)``, ``pi = exp((q - v)/alpha)``) for discrete
  actions, with :class:`Table` (a tabular parameterisation); :class:`GaussianPCL` for a bounded
  continuous action space (:class:`GaussianPolicy`: unsquashed, bounded mean).
- :func:`train`: the loop of the box, on a :class:`~rlbook.mdp.DeterministicMDP` (tabular) or on
  a gymnasium environment with a Box action space (:class:`GaussianPCL`), settings
  :class:`PCLConfig`; :func:`distances` reads a tabular run's distances to the exact optimum.

The ground truth (:class:`~rlbook.mdp.DeterministicMDP`, :func:`~rlbook.mdp.soft_value_iteration`,
:func:`~rlbook.mdp.rollout`, :class:`~rlbook.mdp.Episode`) lives in :mod:`rlbook.mdp`; this module
imports those names from there, so ``rlbook.pcl.DeterministicMDP`` is the same object.
:mod:`rlbook.pcl_continuous` only re-exports the continuous names of this module.

Pseudocode line -> code (``# pcl N`` tags): 4.2 sample an episode with the current policy;
4.3 store it; 4.5-4.5.3 :meth:`PCL.update_on_episode` on it; 4.7-4.8 the same on a replayed one;
4.9 oldest-first removal in :meth:`EpisodeReplay.add`, so when an episode is stored (4.3), before
the draw of 4.7 rather than after it (once the buffer is full, the draw is among the ``B`` newest
episodes instead of ``B + 1``).

The policy step is a gradient step on ``-C * sum_j gamma^j log pi`` (C held fixed): the gradient
of ``C^2 / 2`` divided by ``alpha``, the factor that the box absorbs into ``eta_pi``. The value
step is exactly the gradient of ``C^2 / 2``. Departures from the box, as in the paper's
implementation: the updates of all sub-trajectories of an episode are summed into one step (the
box applies them one at a time); the oldest episode leaves the buffer when a new one is stored
(above); near the end of a terminated episode, the last starts get
shorter paths cut at the terminal state (value 0), while after a time-limit truncation only full
paths of length ``d`` are used, so the last ``d - 1`` starts are dropped and every end value is a
real state's ``v`` (:func:`path_windows`). Options beyond the box: ``replay_updates`` replayed
episodes per new one (the box has one), ``reward_scale`` (the updates see ``c * r``), Adam instead
of plain gradient steps, and a learning-rate decay.
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Callable
from dataclasses import dataclass

import gymnasium as gym
import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from .configdoc import documented, trainer_parameters
from .envs import check_box_env, env_factory, flat_dim
from .loop import (
    Result,
    ResumeState,
    _DeferredInterrupt,
    check_finite,
    eval_row,
    evaluate,
    seeded_torch,
)
from .mdp import DeterministicMDP, Episode, rollout, soft_value_iteration
from .networks import BoxRescale, mlp
from .presets import PCL_PENDULUM as PENDULUM
from .validation import check_int, check_real, check_sizes

__all__ = [
    "EpisodeReplay",
    "GaussianPCL",
    "GaussianPolicy",
    "PCL",
    "PCLConfig",
    "Table",
    "UnifiedPCL",
    "consistency_error",
    "distances",
    "path_windows",
    "rollout_env",
    "train",
    # re-exported (defined elsewhere; the chapters use these paths)
    "DeterministicMDP",
    "Episode",
    "PENDULUM",
    "rollout",
    "soft_value_iteration",
    # the former forms of train, kept for one release
    "train_env",
    "train_tabular",
]


# --- consistency ----------------------------------------------------------------------------------
def consistency_error(
    v_start, v_end, rewards, log_pi, gamma: float, alpha: float, end_discount=None
):
    """``C = -v(s_i) + gamma^d v(s_{i+d}) + sum_j gamma^j [r_{i+j} - alpha log pi(a_{i+j}|s_{i+j})]``.

    ``rewards`` and ``log_pi`` have shape ``(n_paths, d)`` (zero-padded past a path's end);
    ``end_discount`` (default ``gamma^d``) is the discount of the end value, per path. Works on
    numpy arrays and on torch tensors.
    """
    d = rewards.shape[-1]
    powers = gamma ** np.arange(d)
    if isinstance(rewards, torch.Tensor):
        powers = torch.as_tensor(powers, dtype=rewards.dtype, device=rewards.device)
    if end_discount is None:
        end_discount = gamma**d
    return -v_start + end_discount * v_end + ((rewards - alpha * log_pi) * powers).sum(-1)


def path_windows(length: int, d: int, terminated: bool):
    """Index windows of the sub-trajectories ``s_i:s_{i+d}`` of an episode of ``length`` steps.

    Returns ``starts`` and per-path lengths. Every start gets a full path when it fits. If the
    episode terminated, the last starts get shorter paths ending at the terminal state (value 0);
    after a truncation only full paths are used, so every end value is a real state's value.
    """
    d = check_int("d", d, 1)
    starts = np.arange(length if terminated else max(length - d + 1, 0))
    lengths = np.minimum(d, length - starts)
    return starts, lengths


# --- replay ---------------------------------------------------------------------------------------
class EpisodeReplay:
    """Whole episodes; ``sample`` picks one with probability ``softmax(lambda * returns)``."""

    def __init__(self, capacity: int, lam: float, seed=None):
        self.capacity = check_int("capacity", capacity, 1)
        self.lam = check_real("lam", lam, 0.0)
        self.episodes: list[Episode] = []
        self.returns: list[float] = []
        self.rng = np.random.default_rng(seed)

    def __len__(self) -> int:
        return len(self.episodes)

    def add(self, episode: Episode) -> None:
        self.episodes.append(episode)  # pcl 4.3
        self.returns.append(episode.ret)
        # pcl 4.9: remove the oldest, here when storing (4.3), so before the draw of line 4.7
        while len(self.episodes) > self.capacity:
            self.episodes.pop(0)
            self.returns.pop(0)

    def probabilities(self) -> np.ndarray:
        logits = self.lam * np.asarray(self.returns)
        logits -= logits.max()  # exp(lambda R) / sum exp(lambda R), without overflow
        p = np.exp(logits)
        return p / p.sum()

    def sample(self) -> Episode:
        if not self.episodes:
            raise ValueError("cannot sample from an empty episode replay")
        return self.episodes[self.rng.choice(len(self.episodes), p=self.probabilities())]


# --- settings -------------------------------------------------------------------------------------
@documented
@dataclass(frozen=True)
class PCLConfig:
    """PCL settings (names follow Algorithm ``pcl``).

    The first group are the box's and its options; the second say how long :func:`train` runs and
    how it evaluates, in environment steps (as ``rlbook.agent.OffPolicyConfig``); the last apply
    to one kind of environment only. A wrong value raises ``ValueError`` naming the field and its
    allowed range; :meth:`replace` gives a validated copy with some fields changed.
    """

    gamma: float = 0.9  # discount, in [0, 1)
    alpha: float = 0.5  # temperature, > 0
    d: int = 5  # rollout (path) length, >= 1
    lr_pi: float = 0.05  # eta_pi, > 0
    lr_v: float = 0.1  # eta_v, > 0
    capacity: int = 1000  # replay capacity B, >= 1
    lam: float = 0.0  # prioritisation lambda, >= 0 (0: uniform replay)
    episode_length: int = 30  # steps of a tabular episode (a gymnasium env ends its own), >= 1
    replay_updates: int = 1  # off-policy updates per new episode (line 4.7), >= 0
    optimizer: str = "sgd"  # "sgd" as in the box, or "adam"
    lr_decay: float = 1.0  # learning rates are multiplied by this after every iteration, (0, 1]
    reward_scale: float = 1.0  # the updates see c * r (the replay's priorities use raw returns)
    # how long, and evaluation (environment steps; an iteration is one whole episode)
    total_steps: int = 12_000  # train until this many environment steps, rounded up to episodes
    eval_every: int = 1_000  # evaluate each time the steps pass a multiple of this (0: never)
    eval_episodes: int = 10  # gymnasium: evaluation episodes start from reset(seed=i), i < this
    # one kind of environment only
    hidden: tuple[int, ...] = (64, 64)  # gymnasium: hidden widths of the policy and value MLPs
    start: int | None = None  # tabular: the start state of every episode (None: uniform)
    unified: bool = False  # tabular: Unified PCL (one Q-table) instead of policy and value tables

    def __post_init__(self):
        object.__setattr__(self, "hidden", check_sizes("hidden", self.hidden))
        check_real("gamma", self.gamma, 0.0, 1.0, high_open=True)
        check_real("alpha", self.alpha, 0.0, low_open=True)
        check_int("d", self.d, 1)
        check_real("lr_pi", self.lr_pi, 0.0, low_open=True)
        check_real("lr_v", self.lr_v, 0.0, low_open=True)
        check_int("capacity", self.capacity, 1)
        check_real("lam", self.lam, 0.0)
        check_int("episode_length", self.episode_length, 1)
        check_int("replay_updates", self.replay_updates, 0)
        check_real("lr_decay", self.lr_decay, 0.0, 1.0, low_open=True)
        check_real("reward_scale", self.reward_scale, 0.0, low_open=True)
        if self.optimizer not in ("sgd", "adam"):
            raise ValueError(f"optimizer must be 'sgd' or 'adam'; got {self.optimizer!r}")
        check_int("total_steps", self.total_steps, 1)
        check_int("eval_every", self.eval_every, 0)
        check_int("eval_episodes", self.eval_episodes, 1)
        if self.start is not None:
            check_int("start", self.start, 0)
        if not isinstance(self.unified, bool):
            raise ValueError(f"unified must be True or False; got {self.unified!r}")

    def replace(self, **changes) -> PCLConfig:
        """A copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)


# --- agents ---------------------------------------------------------------------------------------
class _PCLBase:
    """Shared episode handling; subclasses provide ``log_pi(obs, act)``, ``values(obs)``,
    ``_step(C, logp_sum, v_start, v_end_disc)`` and their :attr:`optimizers`."""

    #: every optimizer of the agent (the learning-rate decay scales each)
    optimizers: tuple[torch.optim.Optimizer, ...]

    def __init__(self, config: PCLConfig, seed: int = 0):
        self.config = config
        self.rng = np.random.default_rng(
            seed
        )  # the agent's own: torch's global generator untouched
        self.replay = EpisodeReplay(  # pcl 2
            config.capacity, config.lam, seed=self.rng.integers(2**31)
        )

    def _paths(self, ep: Episode):
        c = self.config
        starts, lengths = path_windows(len(ep.rewards), c.d, ep.terminated)
        if len(starts) == 0:
            return None
        idx = starts[:, None] + np.arange(c.d)[None, :]
        mask = np.arange(c.d)[None, :] < lengths[:, None]
        idx_c = np.minimum(idx, len(ep.rewards) - 1)
        obs = torch.as_tensor(ep.obs)
        if obs.is_floating_point():
            obs = obs.float()
        act = torch.as_tensor(ep.actions)
        ends = starts + lengths
        end_terminal = torch.as_tensor(ep.terminated & (ends == len(ep.rewards)))
        return dict(
            idx=torch.as_tensor(idx_c),
            mask=torch.as_tensor(mask, dtype=torch.float32),
            starts=torch.as_tensor(starts),
            ends=torch.as_tensor(ends),
            obs=obs,
            act=act,
            rew=torch.as_tensor(ep.rewards * c.reward_scale, dtype=torch.float32)[idx_c]
            * torch.as_tensor(mask),
            end_discount=torch.as_tensor(c.gamma**lengths, dtype=torch.float32),
            end_terminal=end_terminal,
        )

    def log_pi(self, obs: torch.Tensor, act: torch.Tensor) -> torch.Tensor:
        """``log pi(a_t | s_t)`` for each row of ``obs`` and ``act``."""
        raise NotImplementedError

    def values(self, obs: torch.Tensor) -> torch.Tensor:
        """``v(s)`` for each row of ``obs``."""
        raise NotImplementedError

    def _step(self, C, logp_sum, v_start, v_end_disc) -> None:
        """Lines 4.5.2-4.5.3: one step of the parameters on the paths' consistency errors."""
        raise NotImplementedError

    def decay_learning_rates(self) -> None:
        for opt in self.optimizers:
            for group in opt.param_groups:
                group["lr"] *= self.config.lr_decay

    def update_on_episode(self, ep: Episode) -> float:
        """Lines 4.5.1-4.5.3 for every sub-trajectory of ``ep``, summed; returns mean C^2/2."""
        c = self.config
        p = self._paths(ep)
        if p is None:
            return float("nan")
        values = self.values(p["obs"])  # v(s_0..s_T)
        logp_all = self.log_pi(p["obs"][:-1], p["act"])  # log pi(a_t|s_t)
        logp = logp_all[p["idx"]] * p["mask"]
        v_start = values[p["starts"]]
        v_end = torch.where(p["end_terminal"], torch.zeros(()), values[p["ends"]])
        C = consistency_error(
            v_start, v_end, p["rew"], logp, c.gamma, c.alpha, p["end_discount"]
        )  # pcl 4.5.1
        powers = torch.as_tensor(c.gamma ** np.arange(c.d), dtype=torch.float32)
        logp_sum = (logp * powers).sum(-1)
        self._step(C.detach(), logp_sum, v_start, p["end_discount"] * v_end)
        return float(0.5 * (C.detach() ** 2).mean())


class PCL(_PCLBase):
    """PCL with a tabular (or any ``nn.Module``) policy ``pi_phi`` and value ``v_psi``."""

    def __init__(self, policy: nn.Module, value: nn.Module, config: PCLConfig, seed: int = 0):
        super().__init__(config, seed)
        self.policy, self.value = policy, value  # pcl 1: phi_0, psi_0 as passed in
        opt = torch.optim.SGD if config.optimizer == "sgd" else torch.optim.Adam
        self.pi_opt = opt(policy.parameters(), lr=config.lr_pi)
        self.v_opt = opt(value.parameters(), lr=config.lr_v)
        self.optimizers = (self.pi_opt, self.v_opt)

    def log_pi(self, obs, act):
        return torch.log_softmax(self.policy(obs), -1).gather(-1, act[:, None]).squeeze(-1)

    def values(self, obs):
        return self.value(obs).squeeze(-1)

    def probs(self, obs):
        return torch.softmax(self.policy(obs), -1)

    def _step(self, C, logp_sum, v_start, v_end_disc):
        # pcl 4.5.2: phi <- phi + eta_pi C sum_j gamma^j grad log pi  (descent on -C * logp_sum)
        self.pi_opt.zero_grad()
        (-(C * logp_sum).sum()).backward(retain_graph=True)
        # pcl 4.5.3: psi <- psi + eta_v C [grad v(s_i) - gamma^d grad v(s_{i+d})]
        self.v_opt.zero_grad()
        (-(C * (v_start - v_end_disc)).sum()).backward()
        self.pi_opt.step()
        self.v_opt.step()


class UnifiedPCL(_PCLBase):
    """Unified PCL: one ``q_theta``; ``v = alpha logsumexp(q/alpha)``, ``pi = softmax(q/alpha)``."""

    def __init__(self, q: nn.Module, config: PCLConfig, seed: int = 0):
        super().__init__(config, seed)
        self.q = q
        # one parameter set, two rates: the step is eta_v * [(eta_pi / eta_v) * policy term +
        # value term], which with SGD is exactly eta_pi * (policy term) + eta_v * (value term)
        opt = torch.optim.SGD if config.optimizer == "sgd" else torch.optim.Adam
        self.opt = opt(q.parameters(), lr=config.lr_v)
        self.optimizers = (self.opt,)

    def _v_logits(self, obs):
        q = self.q(obs)
        return self.config.alpha * torch.logsumexp(q / self.config.alpha, -1), q

    def values(self, obs):
        return self._v_logits(obs)[0]

    def log_pi(self, obs, act):
        return (
            torch.log_softmax(self.q(obs) / self.config.alpha, -1)
            .gather(-1, act[:, None])
            .squeeze(-1)
        )

    def probs(self, obs):
        return torch.softmax(self.q(obs) / self.config.alpha, -1)

    def _step(self, C, logp_sum, v_start, v_end_disc):
        c = self.config
        self.opt.zero_grad()
        ratio = c.lr_pi / c.lr_v
        surrogate = -(C * (ratio * logp_sum + (v_start - v_end_disc))).sum()
        surrogate.backward()
        self.opt.step()


class Table(nn.Module):
    """A lookup table ``theta[s]`` (tabular parameterisation for discrete states)."""

    def __init__(self, n_states: int, width: int, init: float = 0.0):
        super().__init__()
        self.theta = nn.Parameter(torch.full((n_states, width), float(init)))

    def forward(self, s):
        return self.theta[s]


# --- continuous actions ---------------------------------------------------------------------------
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
        # no argument validation: a NaN mean gives a NaN log pi, which train reports as
        # divergence (TrainingDiverged), instead of a ValueError from inside the distribution
        normal = torch.distributions.Normal(self(obs), self.std(), validate_args=False)
        return normal.log_prob(act).sum(-1)

    def sample(self, obs, generator=None):
        mu = self(obs)
        eps = torch.randn(mu.shape, generator=generator, dtype=mu.dtype)
        return mu + self.std() * eps


class GaussianPCL(PCL):
    """PCL for a bounded continuous action space: ``pi_phi`` a :class:`GaussianPolicy`, ``v_psi``
    an MLP. The updates are PCL's (lines 4.5.1-4.5.3) unchanged: only ``log pi(a|s)`` differs
    from the discrete case. Episodes store the sampled (unclipped) actions, whose log-density the
    consistency error uses; the environment receives them clipped to the box."""

    policy: GaussianPolicy

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


# --- training ---------------------------------------------------------------------------------
@trainer_parameters(
    PCLConfig,
    own={
        "env": (
            "DeterministicMDP, str, callable or gymnasium.Env",
            "a tabular MDP, or a gymnasium environment with a Box action space (its id, a "
            "factory, or one made with gymnasium.make)",
        ),
        "config": (
            "PCLConfig or None",
            "the settings; default ``PCLConfig(**rlbook.presets.PCL_PENDULUM)`` on a gymnasium "
            "environment and ``PCLConfig()`` on an MDP (the defaults listed below are "
            "PCLConfig()'s); the keyword overrides change single fields",
        ),
        "demonstrations": (
            "sequence of Episode",
            "episodes put in the replay buffer before the first update",
        ),
    },
)
def train(
    env: DeterministicMDP | str | Callable[[], gym.Env] | gym.Env = "Pendulum-v1",
    config: PCLConfig | None = None,
    *,
    seed: int = 0,
    progress: bool | None = None,
    callback: Callable | None = None,
    demonstrations=(),
    **overrides,
) -> Result:
    """Train PCL (Algorithm ``pcl``) on ``env`` and return a :class:`~rlbook.loop.Result`.

    ``env`` is a :class:`~rlbook.mdp.DeterministicMDP` (tabular: :class:`PCL` with two
    :class:`Table` s, or with ``unified=True`` :class:`UnifiedPCL` with one, all zero at the
    start; episodes of ``episode_length`` steps from ``start``, or from a uniformly random state),
    or a gymnasium environment with a Box action space, its id or a function that makes it
    (:class:`GaussianPCL` with ``hidden`` MLPs). Each iteration samples an episode with the
    current policy, stores it, updates on it, then on ``replay_updates`` replayed episodes, until
    ``total_steps`` environment steps (rounded up to whole episodes).

    ``train(mdp, total_steps=6_000, d=3)`` builds the config from keyword overrides (on top of
    :data:`PENDULUM` for a gymnasium environment, the default ones for an MDP);
    ``train(env, config)`` uses a config as given (overrides, if any, are applied to it).
    ``demonstrations`` (episodes) are put in the replay buffer first. ``seed`` sets the agent's
    generators (and the initial weights and the episodes' ``reset`` seeds of a gymnasium run);
    the caller's global generators are left as they are.

    Each time the environment steps pass a multiple of ``eval_every``, ``curve`` gets a row:
    ``step`` (environment steps so far) and the ``mean`` and ``std`` of the return; on a gymnasium
    environment, of the mean action's returns on the episodes started by ``reset(seed=i)``,
    ``i < eval_episodes`` (evaluation time in ``eval_time``, excluded from ``steps_per_second``);
    on an MDP, of the exact return distribution of an episode under the current policy, plus
    ``iteration``, ``v_error`` and ``pi_error`` (``max|v - v*|`` and ``max|pi - pi*|`` to the
    exact soft optimum of the rewards the updates see, :func:`distances`) and ``loss`` (the mean
    ``C^2/2`` of the updates since the previous row). ``episodes`` holds ``(environment steps so
    far, return)`` of every on-policy episode. ``callback(agent, step)``, if given, runs after
    every evaluation; the dicts it returns are collected in ``logs``. ``progress`` shows a tqdm
    bar; ``None`` (default) shows it unless the environment variable ``RLBOOK_PROGRESS`` is ``0``.
    Ctrl-C finishes the current iteration and returns the run so far (``interrupted``); a NaN or
    infinite consistency loss raises :class:`~rlbook.loop.TrainingDiverged`.
    """
    tabular = isinstance(env, DeterministicMDP)
    if config is None:
        config = PCLConfig(**overrides) if tabular else PCLConfig(**{**PENDULUM, **overrides})
    elif overrides:
        config = config.replace(**overrides)
    if not isinstance(config, PCLConfig):
        raise ValueError(f"config must be a PCLConfig; got {type(config).__name__}")
    seed = check_int("seed", seed, 0)
    if progress is None:  # the book's build sets RLBOOK_PROGRESS=0: no bar in static pages
        progress = os.environ.get("RLBOOK_PROGRESS", "1") != "0"
    if tabular:
        return _train_tabular(env, config, seed, progress, callback, demonstrations)
    return _train_gym(env, config, seed, progress, callback, demonstrations)


def _train_tabular(mdp: DeterministicMDP, c: PCLConfig, seed, progress, callback, demonstrations):
    if c.start is not None and c.start >= mdp.n_states:
        raise ValueError(f"start must be a state of the MDP, in [0, {mdp.n_states - 1}]")
    if c.unified:
        agent = UnifiedPCL(Table(mdp.n_states, mdp.n_actions), c, seed=seed)
    else:
        agent = PCL(Table(mdp.n_states, mdp.n_actions), Table(mdp.n_states, 1), c, seed=seed)
    # the optimum of the problem the updates see: rewards c * r, temperature alpha
    seen = DeterministicMDP(mdp.next_state, mdp.reward * c.reward_scale)
    v_star, _, pi_star = soft_value_iteration(seen, c.gamma, c.alpha)
    result = Result(agent=agent, config=c, resume_state=ResumeState(mdp))
    since: list[float] = []  # the iterations' losses since the previous evaluation

    def evaluate_tabular(n: int, start: float) -> None:
        with torch.no_grad():
            states = torch.arange(mdp.n_states)
            v, pi = agent.values(states).numpy(), agent.probs(states).numpy()
        mean, std = _return_moments(mdp, pi.astype(float), c.episode_length, c.start)
        row = {"step": result.steps, "mean": mean, "std": std, "iteration": n}
        row["v_error"] = float(np.abs(v - v_star).max())
        row["pi_error"] = float(np.abs(pi - pi_star).max())
        row["loss"] = float(np.nanmean(since)) if _finite_any(since) else float("nan")
        result.curve.append(row)
        since.clear()

    _run(
        agent,
        lambda n: rollout(mdp, agent, c.episode_length, agent.rng, start=c.start),  # pcl 4.2
        result,
        demonstrations,
        stop=lambda n: result.steps >= c.total_steps,
        evaluate_due=_crossed(c.eval_every, result),
        evaluate=evaluate_tabular,
        callback=callback,
        progress=progress,
        total=c.total_steps,
        on_iteration=lambda n, loss: since.append(loss),
    )
    return result


def _gym_run(env, c: PCLConfig, seed: int):
    """The environment (its factory and one instance), a fresh :class:`GaussianPCL` and its
    empty :class:`Result`, as a gymnasium run of :func:`train` starts."""
    make_env = env_factory(env)
    e = make_env()
    space = check_box_env(e, "GaussianPCL")
    obs_dim = flat_dim(e.observation_space)
    agent = GaussianPCL(obs_dim, space.low, space.high, c, c.hidden, seed)
    e.action_space.seed(seed)
    return make_env, e, agent, Result(agent=agent, config=c, resume_state=ResumeState(env))


def _train_gym(
    env, c: PCLConfig, seed, progress, callback, demonstrations, episodes=None, eval_iterations=1
):
    """A gymnasium run of :func:`train` (environment steps); with ``episodes``, the former
    :func:`train_env`'s (that many iterations, an evaluation every ``eval_iterations``)."""
    make_env, e, agent, result = _gym_run(env, c, seed)
    if episodes is None:
        stop, due, total = (
            lambda n: result.steps >= c.total_steps,
            _crossed(c.eval_every, result),
            c.total_steps,
        )
    else:
        stop, due, total = lambda n: n >= episodes, lambda n: n % eval_iterations == 0, None
    try:
        _run(
            agent,
            lambda n: rollout_env(e, agent, seed=seed * 100_003 + n - 1),  # pcl 4.2
            result,
            demonstrations,
            stop=stop,
            evaluate_due=due,
            evaluate=_gym_evaluation(agent, make_env, range(c.eval_episodes), result),
            callback=callback,
            progress=progress,
            total=total,
        )
    finally:
        e.close()
    return result


def _crossed(every: int, result: Result) -> Callable[[int], bool]:
    """``due(n)``: whether the steps passed a multiple of ``every`` in the last iteration."""
    last = [0]

    def due(n: int) -> bool:
        crossed = every > 0 and result.steps // every > last[0] // every
        last[0] = result.steps
        return crossed

    return due


def _gym_evaluation(agent, make_env, seeds, result: Result) -> Callable[[int, float], None]:
    """``evaluate(n, start)``: the mean action's returns from ``reset(seed=i)``, ``i`` in ``seeds``,
    a ``curve`` row; the training time so far (since ``start``, evaluations excluded) in
    ``curve_seconds``."""

    def evaluate_gym(n: int, start: float) -> None:
        t0 = time.perf_counter()
        result.curve_seconds.append(t0 - start - result.eval_time)
        returns = evaluate(agent.act_batch, make_env, seeds)
        result.curve.append(eval_row(result.steps, returns))
        result.eval_time += time.perf_counter() - t0

    return evaluate_gym


def _run(
    agent,
    sample: Callable[[int], Episode],
    result: Result,
    demonstrations,
    *,
    stop: Callable[[int], bool],
    evaluate_due: Callable[[int], bool],
    evaluate: Callable[[int, float], None],
    callback,
    progress: bool,
    total: int | None,
    on_iteration: Callable[[int, float], None] | None = None,
) -> None:
    """The loop of the box, shared by every PCL trainer: iteration ``n`` (from 1) samples an
    episode (``sample(n)``), stores it, updates on it and on ``replay_updates`` replayed ones,
    until ``stop(n)``; evaluates when ``evaluate_due(n)``, then calls ``callback``. Ctrl-C ends the
    run after the current iteration; a NaN or infinite loss raises TrainingDiverged."""
    c = agent.config
    for ep in demonstrations:
        agent.replay.add(ep)
    start = time.perf_counter()
    bar = tqdm(total=total, disable=not progress, desc="PCL", leave=False, mininterval=0.02)
    n = 0
    try:
        with _DeferredInterrupt() as interrupt:
            while not stop(n) and not interrupt.requested:
                n += 1
                ep = sample(n)  # pcl 4.2
                agent.replay.add(ep)  # pcl 4.3
                loss = [_update(agent, ep, result)]  # pcl 4.5
                for _ in range(c.replay_updates):
                    loss.append(_update(agent, agent.replay.sample(), result))  # pcl 4.7-4.8
                agent.decay_learning_rates()
                result.steps += len(ep.rewards)
                result.episodes.append((result.steps, ep.ret))
                if on_iteration is not None:
                    on_iteration(n, float(np.nanmean(loss)) if _finite_any(loss) else float("nan"))
                if evaluate_due(n):
                    evaluate(n, start)
                    if callback is not None:
                        log = callback(agent, result.steps)
                        if log is not None:
                            result.logs.append({"step": result.steps, **log})
                bar.update(len(ep.rewards))
            result.interrupted = interrupt.requested
    except KeyboardInterrupt:  # a second Ctrl-C, or outside the main thread
        result.interrupted = True
    finally:
        bar.close()
        result.wall_time = time.perf_counter() - start


def _finite_any(values) -> bool:
    return any(v == v for v in values)  # a NaN is the loss of an episode too short for a path


def _update(agent, ep: Episode, result: Result) -> float:
    """Lines 4.5.1-4.5.3 on ``ep``; a NaN or infinite loss of a real path raises."""
    loss = agent.update_on_episode(ep)
    if len(path_windows(len(ep.rewards), agent.config.d, ep.terminated)[0]):
        check_finite({"consistency loss C^2/2": loss}, result.steps, result)
    return loss


def _return_moments(mdp: DeterministicMDP, pi: np.ndarray, length: int, start) -> tuple:
    """Mean and std of the (undiscounted) return of an episode of ``length`` steps under the
    policy table ``pi``, from ``start`` or a uniformly random state: exact, by recursion on the
    steps to go of the first two moments."""
    m1 = np.zeros(mdp.n_states)  # E[return to go | s]
    m2 = np.zeros(mdp.n_states)  # E[(return to go)^2 | s]
    r, nxt = mdp.reward, mdp.next_state
    for _ in range(length):
        m1, m2 = (
            (pi * (r + m1[nxt])).sum(1),
            (pi * (r**2 + 2 * r * m1[nxt] + m2[nxt])).sum(1),
        )
    if start is None:
        mean, second = m1.mean(), m2.mean()
    else:
        mean, second = m1[start], m2[start]
    return float(mean), float(np.sqrt(max(second - mean**2, 0.0)))


def distances(result: Result) -> np.ndarray:
    """``(iteration, max|v - v*|, max|pi - pi*|)`` rows of a tabular run's evaluations (of
    :func:`train`'s ``curve``, or of the former :func:`train_tabular`'s ``logs``)."""
    rows = [(r["iteration"], r["v_error"], r["pi_error"]) for r in result.curve if "v_error" in r]
    if not rows:
        rows = [(r["step"], r["v_error"], r["pi_error"]) for r in result.logs if "v_error" in r]
    return np.array(rows, dtype=float).reshape(-1, 3)


# --- the former forms of train, kept for one release ----------------------------------------------
def train_tabular(
    mdp: DeterministicMDP,
    agent,
    episodes: int,
    demonstrations=(),
    evaluate_every: int = 0,
    reference=None,
    start: int | None = None,
    progress: bool = False,
) -> Result:
    """The former tabular trainer (use :func:`train`): ``episodes`` iterations of a given agent.
    ``logs`` holds one row per iteration, ``{"step": iteration, "loss": mean C^2/2 of its
    updates}``, to which, with ``reference=(v*, pi*)``, every ``evaluate_every`` iterations adds
    ``v_error`` and ``pi_error``; ``curve`` stays empty."""
    check_int("episodes", episodes, 0)
    c = agent.config
    states = torch.arange(mdp.n_states)
    result = Result(agent=agent, config=c)

    def log(n: int, loss: float) -> None:
        row = {"step": n, "loss": loss}
        if reference is not None and evaluate_every and n % evaluate_every == 0:
            with torch.no_grad():
                v, pi = agent.values(states).numpy(), agent.probs(states).numpy()
            row["v_error"] = float(np.abs(v - reference[0]).max())
            row["pi_error"] = float(np.abs(pi - reference[1]).max())
        result.logs.append(row)

    _run(
        agent,
        lambda n: rollout(mdp, agent, c.episode_length, agent.rng, start=start),  # pcl 4.2
        result,
        demonstrations,
        stop=lambda n: n >= episodes,
        evaluate_due=lambda n: False,
        evaluate=lambda n, start: None,
        callback=None,
        progress=progress,
        total=episodes * c.episode_length,
        on_iteration=log,
    )
    return result


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
    """The former continuous trainer (use :func:`train`): ``episodes`` iterations, evaluation
    every ``eval_every`` iterations; the same run as :func:`train` with ``hidden``,
    ``eval_episodes``, ``total_steps = episodes * T`` and ``eval_every = eval_every * T`` for
    episodes of a fixed length ``T``."""
    check_int("episodes", episodes, 0)
    check_int("eval_every", eval_every, 1)
    config = PCLConfig(**PENDULUM) if config is None else config
    config = config.replace(hidden=hidden, eval_episodes=eval_episodes)
    return _train_gym(
        env,
        config,
        seed,
        False,
        None,
        demonstrations,
        episodes=episodes,
        eval_iterations=eval_every,
    )
