"""Algorithm {prf:ref}`pcl`: Path Consistency Learning and Unified PCL {cite}`Nachum2017`.

- :class:`DeterministicMDP` and :func:`soft_value_iteration` (from :mod:`rlbook.mdp`): the ground
  truth, a small deterministic MDP solved exactly for ``(v*, pi*)`` of the entropy-regularised
  problem.
- :func:`consistency_error`: the d-step soft consistency error ``C(s_i:s_{i+d})`` for a batch of
  paths, given ``v`` and ``log pi`` along them; :func:`path_windows`: which paths an episode gives.
- :class:`EpisodeReplay`: whole episodes, sampled with probability proportional to
  ``exp(lambda * return)`` (computed as a softmax, so large returns do not overflow), capacity
  ``B`` with oldest-first removal.
- :class:`PCL` (separate policy ``pi_phi`` and value ``v_psi``) and :class:`UnifiedPCL` (one
  ``q_theta`` with ``v = alpha logsumexp(q/alpha)``, ``pi = exp((q - v)/alpha)``) for discrete
  actions, :class:`Table` (a tabular parameterisation) and :func:`train_tabular` (the loop of the
  box on a :class:`DeterministicMDP`).
- Continuous actions, in :mod:`rlbook.pcl_continuous` and importable from here:
  :class:`~rlbook.pcl_continuous.GaussianPCL` (a Gaussian policy, unsquashed, bounded mean),
  :func:`~rlbook.pcl_continuous.train_env` on gymnasium environments, its default settings
  :data:`~rlbook.pcl_continuous.PENDULUM`.

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

import time
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from .loop import Result
from .mdp import DeterministicMDP, Episode, rollout, soft_value_iteration
from .validation import check_int, check_real

#: the continuous-action names, defined in rlbook.pcl_continuous (see ``__getattr__`` at the end)
_CONTINUOUS = ("GaussianPCL", "GaussianPolicy", "PENDULUM", "rollout_env", "train_env")
__all__ = [
    "DeterministicMDP",
    "Episode",
    "EpisodeReplay",
    "PCL",
    "PCLConfig",
    "Table",
    "UnifiedPCL",
    "consistency_error",
    "path_windows",
    "rollout",
    "soft_value_iteration",
    "distances",
    "train_tabular",
    *_CONTINUOUS,
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


# --- agents ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class PCLConfig:
    """PCL settings (names follow Algorithm {prf:ref}`pcl`)."""

    gamma: float = 0.9
    alpha: float = 0.5  # temperature
    d: int = 5  # rollout (path) length
    lr_pi: float = 0.05  # eta_pi
    lr_v: float = 0.1  # eta_v
    capacity: int = 1000  # replay capacity B
    lam: float = 0.0  # prioritisation lambda
    episode_length: int = 30
    replay_updates: int = 1  # off-policy updates per new episode (line 4.7)
    optimizer: str = "sgd"  # "sgd" as in the box, or "adam"
    lr_decay: float = 1.0  # learning rates are multiplied by this after every iteration
    reward_scale: float = 1.0  # the updates see c * r (the replay's priorities use raw returns)

    def __post_init__(self):
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


class _PCLBase:
    """Shared episode handling; subclasses provide ``log_pi(obs, act)``, ``values(obs)`` and
    ``_step(C, logp_sum, v_start, v_end_disc)``."""

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
    """Algorithm {prf:ref}`pcl` on a tabular MDP: each iteration samples an episode on-policy,
    stores it, updates on it, then updates on ``replay_updates`` replayed episodes.

    ``demonstrations`` (episodes) are put in the replay first; episodes start in ``start`` (default:
    a uniformly random state). Returns a :class:`~rlbook.loop.Result`: ``episodes`` holds
    ``(environment steps so far, return of the on-policy episode)``, ``logs`` one row per iteration,
    ``{"step": iteration, "loss": mean C^2/2 of its updates}``, to which, with
    ``reference=(v*, pi*)``, every ``evaluate_every`` iterations adds ``v_error`` and
    ``pi_error`` (``max|v - v*|`` and ``max|pi - pi*|``); ``steps`` counts environment steps.
    ``progress`` shows a tqdm bar over the iterations (a widget in Jupyter: the PCL knob's).
    """
    check_int("episodes", episodes, 0)
    c = agent.config
    for ep in demonstrations:
        agent.replay.add(ep)
    result = Result(agent=agent, config=c)
    states = torch.arange(mdp.n_states)
    begin = time.perf_counter()
    bar = tqdm(
        range(1, episodes + 1), disable=not progress, desc="PCL", leave=False, mininterval=0.02
    )
    for n in bar:  # updates every 20 ms: a short run still shows its bar advance
        ep = rollout(mdp, agent, c.episode_length, agent.rng, start=start)  # pcl 4.2
        agent.replay.add(ep)  # pcl 4.3
        loss = [agent.update_on_episode(ep)]  # pcl 4.5
        for _ in range(c.replay_updates):
            loss.append(agent.update_on_episode(agent.replay.sample()))  # pcl 4.7-4.8
        agent.decay_learning_rates()
        result.steps += len(ep.rewards)
        result.episodes.append((result.steps, ep.ret))
        row = {"step": n, "loss": float(np.nanmean(loss))}
        if reference is not None and evaluate_every and n % evaluate_every == 0:
            with torch.no_grad():
                v = agent.values(states).numpy()
                pi = agent.probs(states).numpy()
            row["v_error"] = float(np.abs(v - reference[0]).max())
            row["pi_error"] = float(np.abs(pi - reference[1]).max())
        result.logs.append(row)
    result.wall_time = time.perf_counter() - begin
    return result


def distances(result: Result) -> np.ndarray:
    """``(iteration, max|v - v*|, max|pi - pi*|)`` rows of :func:`train_tabular`'s evaluations."""
    rows = [(r["step"], r["v_error"], r["pi_error"]) for r in result.logs if "v_error" in r]
    return np.array(rows, dtype=float).reshape(-1, 3)


# --- continuous actions: rlbook.pcl_continuous, importable from here ----------------------------
def __getattr__(name: str):
    """The names of :mod:`rlbook.pcl_continuous`, loaded on first use: that module builds on
    :class:`PCL` and imports this one, so importing it here at the top would be circular."""
    if name in _CONTINUOUS:
        from . import pcl_continuous

        return getattr(pcl_continuous, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted([*globals(), *_CONTINUOUS])
