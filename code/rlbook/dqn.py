"""The background chapter's online algorithms for finite action sets: DQN and Double DQN
(Algorithms ``dqn`` and ``double-dqn``), and the target and loss they share with
the two offline ones, batch FQI and flattened NFQI with EMA targets (:mod:`rlbook.fqi_discrete`).

A Q-network maps a state to one value per action, ``q(s) -> (n_actions,)``. DQN and Double DQN
are agents of the shared interaction loop (:mod:`rlbook.loop`), so they get its warm-up,
evaluation on fixed starts, Ctrl-C handling and checkpoints. Departures from the pseudocode:

- the bootstrap is masked by ``terminated`` (never by a time-limit truncation);
- DQN explores with an epsilon that decays linearly from ``epsilon_start`` to ``epsilon_end``
  over ``epsilon_decay`` steps (the box keeps it fixed), after ``warmup_steps`` uniform actions;
- the loss is the squared error of the boxes (DQN's paper clips the error: Huber loss);
- the boxes' gradient steps ``theta <- theta - alpha * grad`` are Adam steps with learning rate
  ``lr_q`` (DQN's paper used RMSProp);
- DQN's epsilon schedule runs on the environment step (warm-up included), counted by ``store``.

``train(..., seeds=...)`` runs several seeds as one batch of independent runs, as DDPG, TD3 and
SAC do (:meth:`rlbook.agent.OffPolicyAgent.stack`): the Q-networks of all runs are stacked along
a leading run dimension, and each run keeps its own environment, replay buffer (with
``terminated`` and ``truncated`` apart) and epsilon-greedy generator; one clock serves every run's
epsilon schedule, since every run stores one transition per step.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

import gymnasium as gym
import numpy as np
import torch

from .agent import OffPolicyAgent, OffPolicyConfig, gradient_step, train_agent
from .configdoc import documented, trainer_parameters
from .loop import Result, SeedResults
from .networks import Float32OutputMLP, mlp
from .targets import hard_update, make_target
from .validation import check_int, check_real

__all__ = ["DQN", "DQNConfig", "dqn_target", "td_loss", "train"]


# ------------------------------------------------------------------------------------------------
# targets and loss, shared with batch FQI and NFQI-EMA (rlbook.fqi_discrete)
# ------------------------------------------------------------------------------------------------
def dqn_target(
    q_target, batch_rew, batch_next_obs, batch_terminated, gamma: float, q_online=None
) -> torch.Tensor:
    """``r + gamma (1 - terminated) q_target(s', a*)``: with ``q_online`` given, ``a*`` is its
    argmax (Double DQN, lines 2.3-2.4); otherwise the max of ``q_target`` itself (DQN line 4.5)."""
    with torch.no_grad():
        next_q = q_target(batch_next_obs)
        if q_online is None:
            value = next_q.max(dim=-1).values  # dqn 4.5
        else:
            a_star = q_online(batch_next_obs).argmax(dim=-1, keepdim=True)  # double-dqn 2.3
            value = next_q.gather(-1, a_star).squeeze(-1)  # double-dqn 2.4
        return batch_rew + gamma * (1.0 - batch_terminated) * value


def td_loss(q, obs: torch.Tensor, act: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """``mean_i (q(s_i)[a_i] - y_i)^2`` (the loss of DQN line 4.6 and NFQI-EMA line 2.3).

    In a batch of runs (inputs with a leading run dimension, ``y`` of shape ``(runs, b)``) the
    mean runs over each run's own mini-batch and the runs' losses are summed, never averaged, so
    that each run's parameters get exactly the gradient of their own loss
    (:func:`rlbook.agent.critic_loss` explains why)."""
    q_sa = q(obs).gather(-1, act.long().reshape(*y.shape, 1)).squeeze(-1)
    return ((q_sa - y) ** 2).mean(dim=-1).sum()


# ------------------------------------------------------------------------------------------------
# DQN and Double DQN
# ------------------------------------------------------------------------------------------------
@documented
@dataclass(frozen=True)
class DQNConfig(OffPolicyConfig):
    """DQN settings (on top of :class:`~rlbook.agent.OffPolicyConfig`; ``lr_q`` is the learning
    rate alpha, ``lr_pi`` is unused)."""

    total_steps: int = 20_000
    warmup_steps: int = 1_000
    batch_size: int = 64
    buffer_size: int = 50_000
    hidden: tuple[int, ...] = (64, 64)
    target_period: int = 500  # K of line 4.7
    epsilon_start: float = 1.0  # exploration rate after warm-up...
    epsilon_end: float = 0.05  # ...decaying linearly to this
    epsilon_decay: int = 10_000  # over this many environment steps
    double: bool = False  # Double DQN's target (Algorithm double-dqn)

    def validate(self) -> None:
        super().validate()
        check_int("target_period", self.target_period, 1)
        check_real("epsilon_start", self.epsilon_start, 0.0, 1.0)
        check_real("epsilon_end", self.epsilon_end, 0.0, 1.0)
        check_int("epsilon_decay", self.epsilon_decay, 1)
        if not isinstance(self.double, bool):
            raise ValueError(f"double must be True or False; got {self.double!r}")


class DQN(OffPolicyAgent):
    """Algorithm ``dqn`` and, with ``double=True``, Algorithm ``double-dqn``."""

    config_class = DQNConfig
    config: DQNConfig
    action_space: gym.spaces.Discrete  # checked by check_spaces
    name = "DQN"
    state_modules = ("q", "q_target")
    state_optimizers = ("q_optimizer",)
    state_counters = ("updates", "steps")  # steps drives the epsilon schedule
    state_rngs = ("rng",)  # epsilon-greedy's draws

    def check_env(self, env: gym.Env):
        space = env.action_space
        if not isinstance(space, gym.spaces.Discrete):
            raise ValueError(
                f"DQN needs a finite action space (gymnasium.spaces.Discrete); this environment has "
                f"{type(space).__name__}. Use DDPG, TD3 or SAC for continuous actions."
            )
        obs = env.observation_space
        if not isinstance(obs, gym.spaces.Box) or len(obs.shape) != 1:
            raise ValueError(f"DQN needs a flat Box observation space; got {obs}")
        return space

    def __init__(self, env, config: DQNConfig, seed_seq: np.random.SeedSequence):
        super().__init__(env, config, seed_seq)
        self.n_actions = int(self.action_space.n)
        # the output layer stays float32 under precision="bfloat16" (Q-values of hundreds would
        # be rounded to a few units in bf16): the same layers as mlp(), run by float32_output
        q = Float32OutputMLP(*mlp(self.obs_dim, self.n_actions, config.hidden))
        self.q = q.to(self.device)  # dqn 1
        self.q_target = make_target(self.q)  # dqn 1, double-dqn 1
        self.make_optimizers()
        self.rng = np.random.default_rng(self.noise_seed)
        self.steps = 0  # environment steps stored so far (warm-up included): the schedule's clock

    def make_optimizers(self) -> None:
        """Adam over the Q-network (fused for one run, ``foreach`` for a batch of runs:
        :meth:`~rlbook.agent.OffPolicyAgent.adam`)."""
        self.q_params = list(self.q.parameters())
        self.q_optimizer = self.adam(self.q_params, self.config.lr_q)

    def epsilon(self) -> float:
        """Exploration rate at the current environment step: ``epsilon_start`` until the warm-up
        ends, then linear to ``epsilon_end`` over the next ``epsilon_decay`` steps.

        The clock is :attr:`steps`, the environment steps stored so far, warm-up included (the
        loop acts uniformly during warm-up and calls :meth:`act` only after it): at the k-th
        action after the warm-up, ``steps = warmup_steps + k - 1``."""
        c = self.config
        frac = min(1.0, max(0, self.steps - c.warmup_steps) / c.epsilon_decay)
        return c.epsilon_start + frac * (c.epsilon_end - c.epsilon_start)

    @torch.no_grad()
    def act_batch(self, obs: np.ndarray) -> np.ndarray:
        """Greedy actions for a batch of observations (evaluation); in a batch of runs,
        observations ``(runs, episodes, dim)`` give actions ``(runs, episodes)``."""
        return self.q(self._obs_tensor(obs)).argmax(-1).cpu().numpy()

    def act(self, obs, explore: bool = True):
        """Line 4.2: epsilon-greedy with respect to the online network. In a batch of runs
        (``obs`` of shape ``(runs, dim)``) each run draws from its own generator, in the order
        its one-seed run draws (the coin, then the uniform action if the coin says explore),
        and the greedy actions of all runs come from one batched pass."""
        if self.members:
            return self._act_members(np.asarray(obs), explore)
        if explore and self.rng.random() < self.epsilon():  # dqn 4.2, double-dqn 2.1
            return int(self.rng.integers(self.n_actions))
        return int(self.act_batch(np.asarray(obs)[None])[0])

    def _act_members(self, obs: np.ndarray, explore: bool) -> np.ndarray:
        act = self.act_batch(obs[:, None])[:, 0]  # every run's greedy action, (runs,)
        if explore:
            epsilon = self.epsilon()  # one clock: every run has stored as many steps
            rngs = cast(list[np.random.Generator], self.rng)  # one per run (stack)
            for i, rng in enumerate(rngs):
                if rng.random() < epsilon:  # dqn 4.2, double-dqn 2.1, run i's own draws
                    act[i] = rng.integers(self.n_actions)
        return act

    def store(self, obs, act, rew, next_obs, terminated, truncated) -> None:
        super().store(obs, act, rew, next_obs, terminated, truncated)
        self.steps += 1  # one environment step more on the epsilon schedule's clock

    def update(self) -> dict:
        c = self.config
        b = self.buffer.sample(c.batch_size)  # dqn 4.4, double-dqn 2.2
        y = dqn_target(
            self.q_target,
            b.rew,
            b.next_obs,
            b.terminated,
            c.gamma,
            q_online=self.q if c.double else None,
        )
        loss = td_loss(self.q, b.obs, b.act, y)
        gradient_step(self.q_optimizer, loss, self.q_params)  # dqn 4.6, double-dqn 2.5
        if self.updates % c.target_period == 0:
            hard_update(self.q_target, self.q)  # dqn 4.7, double-dqn 2.6
        self.updates += 1  # dqn 4.8
        return {"loss_q": loss, "target": y.mean()}  # one mean over all runs, as SAC/TD3/DDPG


@trainer_parameters(DQNConfig)
def train(
    env="CartPole-v1",
    config: DQNConfig | None = None,
    *,
    seed: int = 0,
    seeds=None,
    progress: bool | None = None,
    callback=None,
    **overrides,
) -> Result | SeedResults:
    """Train DQN (``double=True``: Double DQN) on ``env``; a :class:`~rlbook.loop.Result`
    (``SeedResults`` with ``seeds``: the runs of those seeds as one batch, each run with its own
    environment, replay buffer, epsilon-greedy generator and networks)."""
    return train_agent(DQN, env, config, seed, progress, overrides, callback, seeds)
