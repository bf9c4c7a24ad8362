"""Algorithm ``ddpg``: Deep Deterministic Policy Gradient (Lillicrap et al. 2016).

Pseudocode line -> code (tags ``# ddpg N`` mark the lines below):

- 1-2: :class:`DDPG.__init__` builds ``q`` and ``policy`` and their targets as exact copies;
- 3-4: the replay buffer and the exploration noise (OU or Gaussian);
- 6.3: :meth:`DDPG.act` adds noise to ``policy(s)``; 6.4-6.5: the shared loop and ``store``;
- 6.6-6.8: :func:`rlbook.agent.critic_loss` with the target of :func:`critic_target`;
- 6.9: :func:`actor_loss`, the deterministic policy gradient through the updated critic;
- 6.10: the soft (EMA) target update of the paper, ``theta_target <- tau theta + (1 - tau)
  theta_target`` with the freshly updated parameters, after every update.

Departures from the pseudocode, each standard:

- the bootstrap is masked by ``terminated`` (not by a time-limit truncation);
- ``warmup_steps`` random actions precede the first update (see :mod:`rlbook.loop`);
- actions are ``clip(policy(s) + scale * eta, low, high)``: noise is in normalized units
  (``scale`` is half the width of the action box) and the result stays in the box;
- the noise is reset at the start of every episode (:meth:`DDPG.episode_start`: an OU path
  restarts at ``mu``), as the paper's Algorithm 1 does; the box initializes it once, at line 4.

A variant: ``target_update="hard"`` replaces line 6.10 by DQN's hard copy,
``theta_target <- theta_{t+1}`` after every ``target_period``-th update (updates 0, K, 2K, ...),
so that a target is 0 to K - 1 updates old when used, (K - 1) / 2 on average, against
``(1 - tau) / tau`` for the EMA. ``tau`` is 0.005 by default (TD3's rate; the paper's is 0.001).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Self, cast

import numpy as np
import torch

from .agent import (
    OffPolicyAgent,
    OffPolicyConfig,
    check_target_update,
    critic_loss,
    gradient_step,
    train_agent,
)
from .configdoc import documented, trainer_parameters
from .loop import Result, SeedResults
from .networks import DeterministicActor, QEnsemble
from .noise import GaussianNoise, MemberNoise, OrnsteinUhlenbeckNoise
from .targets import ema_update, hard_update, make_target
from .validation import check_choice, check_int, check_real

__all__ = ["DDPG", "DDPGConfig", "actor_loss", "critic_loss", "critic_target", "train"]


@documented
@dataclass(frozen=True)
class DDPGConfig(OffPolicyConfig):
    """DDPG settings (on top of :class:`~rlbook.agent.OffPolicyConfig`)."""

    target_update: str = "ema"  # "ema": line 6.10, the paper's soft update; "hard": copies
    target_period: int = 1_000  # K of the variant target_update == "hard": a copy every K updates
    tau: float = 0.005  # EMA rate tau of line 6.10, the weight of the online parameters
    noise: str = "ou"  # exploration noise eta: "ou" (Ornstein-Uhlenbeck) or "gaussian"
    # in normalized action units: the OU diffusion coefficient sigma, or the Gaussian's standard
    # deviation; not the same amplitude (an OU path reset every episode has a different spread)
    noise_sigma: float = 0.1
    ou_theta: float = 0.15  # OU mean-reversion rate (theta; kappa in the DDPG chapter)
    ou_mu: float = 0.0  # OU long-term mean mu
    ou_dt: float = 1e-2  # OU time step Delta t

    def validate(self) -> None:
        super().validate()
        check_target_update(self.target_update)
        check_int("target_period", self.target_period, 1)
        check_real("tau", self.tau, 0.0, 1.0, low_open=True)
        check_choice("noise", self.noise, ("ou", "gaussian"))
        check_real("noise_sigma", self.noise_sigma, 0.0)
        check_real("ou_theta", self.ou_theta, 0.0)
        check_real("ou_mu", self.ou_mu)
        check_real("ou_dt", self.ou_dt, 0.0, low_open=True)
        if self.ou_theta * self.ou_dt >= 2:
            raise ValueError(
                f"ou_theta * ou_dt must be in [0, 2) for a stable OU process; "
                f"got {self.ou_theta * self.ou_dt:g}"
            )


def critic_target(q_target, policy_target, batch, gamma: float) -> torch.Tensor:
    """Line 6.7.1: ``y = r + gamma * (1 - terminated) * q_target(s', policy_target(s'))``."""
    with torch.no_grad():
        next_act = policy_target(batch.next_obs)
        next_q = q_target(batch.next_obs, next_act)[..., 0, :]  # the one critic
        return batch.rew + gamma * (1.0 - batch.terminated) * next_q


def actor_loss(q, policy, obs: torch.Tensor) -> torch.Tensor:
    """Line 6.9 (and TD3 13.1): minimise ``-mean q_a(s, policy(s))``, i.e. ascend the critic.

    Only the first critic (``q_a``) is used, as in the pseudocode of both DDPG and TD3. The mean
    is over the batch (the last axis) and summed over the runs of a batch of runs, if any.
    """
    return -q(obs, policy(obs), members=slice(0, 1)).mean(dim=-1).sum()


class DDPG(OffPolicyAgent):
    """Algorithm ``ddpg``. ``update`` performs lines 6.6 to 6.11 once."""

    config_class = DDPGConfig
    config: DDPGConfig
    policy: DeterministicActor
    name = "DDPG"
    state_modules = ("policy", "q", "policy_target", "q_target")
    state_optimizers = ("q_optimizer", "policy_optimizer")
    state_parts = (*OffPolicyAgent.state_parts, "noise")  # ddpg 4: eta, its value and generator
    #: eta of line 4; in a batch of runs, one process per run (:meth:`stack`)
    noise: OrnsteinUhlenbeckNoise | GaussianNoise | MemberNoise

    @property
    def n_critics(self) -> int:
        return 1

    def __init__(self, env, config: DDPGConfig, seed_seq: np.random.SeedSequence):
        super().__init__(env, config, seed_seq)
        c = config
        # ddpg 1, td3 1
        self.policy = DeterministicActor(self.obs_dim, self.low, self.high, c.hidden)
        self.q = QEnsemble(self.obs_dim, self.act_dim, c.hidden, n=self.n_critics)
        self.policy.to(self.device)
        self.q.to(self.device)
        # ddpg 2, td3 2
        self.policy_target = make_target(self.policy)
        self.q_target = make_target(self.q)
        self.make_optimizers()
        self.noise = self.make_noise()  # ddpg 4
        self.scale = self.policy.rescale.scale.cpu().numpy()

    def make_optimizers(self) -> None:
        c = self.config
        self.q_params = list(self.q.parameters())
        self.policy_params = list(self.policy.parameters())
        self.q_optimizer = self.adam(self.q_params, c.lr_q)
        self.policy_optimizer = self.adam(self.policy_params, c.lr_pi)

    @classmethod
    def stack(cls, agents: list[Self]) -> Self:
        """:meth:`OffPolicyAgent.stack`, the runs' noise processes kept, one per run."""
        batch = super().stack(agents)
        batch.noise = MemberNoise([a.noise for a in agents])
        return batch

    def member(self, i: int) -> Self:
        """:meth:`OffPolicyAgent.member`, with a copy of run ``i``'s noise process."""
        single = super().member(i)
        assert isinstance(self.noise, MemberNoise)  # a batch's (stack)
        single.noise = copy.deepcopy(self.noise.processes[i])
        return single

    def make_noise(self) -> OrnsteinUhlenbeckNoise | GaussianNoise:
        c = self.config
        if getattr(c, "noise", "gaussian") == "ou":
            return OrnsteinUhlenbeckNoise(
                self.act_dim, c.ou_theta, c.noise_sigma, c.ou_mu, c.ou_dt, seed=self.noise_seed
            )
        return GaussianNoise(self.act_dim, c.noise_sigma, seed=self.noise_seed)

    def episode_start(self, member: int | None = None) -> None:
        # a fresh OU path every episode (of run `member`'s episode, in a batch of runs)
        if self.members is None:
            self.noise.reset()
        else:
            cast(MemberNoise, self.noise).reset(member)

    @torch.no_grad()
    def act(self, obs: np.ndarray, explore: bool = True) -> np.ndarray:
        """Line 6.3: ``a = policy(s) + eta`` (noise in normalized units), clipped to the box."""
        act = self._act_output(self.policy(self._act_input(obs)))
        if explore:
            act = np.clip(act + self.scale * self.noise(), self.low, self.high)  # ddpg 6.3, td3 5.3
        return act

    # -- one iteration of the while loop, after acting and storing ----------------------------
    def update(self) -> dict:
        """Lines 6.6-6.11 of Algorithm ``ddpg``, in order."""
        c = self.config
        # ddpg 6.6
        batch = self.buffer.sample(c.batch_size)
        # ddpg 6.7
        y = critic_target(self.q_target, self.policy_target, batch, c.gamma)
        loss_q = critic_loss(self.q, y, batch)
        # ddpg 6.8
        gradient_step(self.q_optimizer, loss_q, self.q_params)
        loss_pi = actor_loss(self.q, self.policy, batch.obs)
        # ddpg 6.9
        gradient_step(self.policy_optimizer, loss_pi, self.policy_params)
        # ddpg 6.10
        if c.target_update == "ema":
            # ddpg 6.10.1
            ema_update(self.q_target, self.q, c.tau)
            # ddpg 6.10.2
            ema_update(self.policy_target, self.policy, c.tau)
        elif self.updates % c.target_period == 0:  # the variant: DQN's hard copy every K updates
            hard_update(self.q_target, self.q)
            hard_update(self.policy_target, self.policy)
        # ddpg 6.11
        self.updates += 1
        return {"loss_q": loss_q, "target": y.mean(), "loss_pi": loss_pi}  # NaN-checked by the loop


@trainer_parameters(DDPGConfig)
def train(
    env="Pendulum-v1",
    config: DDPGConfig | None = None,
    *,
    seed: int = 0,
    seeds=None,
    progress: bool | None = None,
    callback=None,
    **overrides,
) -> Result | SeedResults:
    """Train DDPG on ``env``; a :class:`~rlbook.loop.Result` (``SeedResults`` with ``seeds``).

    ``train("Pendulum-v1", total_steps=5_000)`` builds the config from keyword overrides;
    ``train(env, config)`` uses a config as given (overrides, if any, are applied to it).
    """
    return train_agent(DDPG, env, config, seed, progress, overrides, callback, seeds)
