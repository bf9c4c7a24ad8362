"""Algorithm ``sac``: Soft Actor-Critic (Haarnoja et al. 2018a, 2018b).

Pseudocode line -> code (``# sac N`` tags below):

- 1-2: twin critics ``q`` (``q_a`` = member 0, ``q_b`` = member 1) and their exact-copy target;
  the policy ``pi_phi`` is a :class:`~rlbook.networks.SquashedGaussianActor` (no target);
- 5.2: :meth:`SAC.act` samples ``a ~ pi_phi(.|s)``;
- 5.7-5.8: :func:`critic_target`, the single-sample soft target with the twin minimum;
- 5.9-5.10: :func:`rlbook.agent.critic_loss`, shared with DDPG and TD3;
- 5.12-5.13: :func:`actor_loss`, reparameterised, against the updated critics;
- 5.15-5.16: EMA of the critic targets with rate ``tau``.

Options beyond the pseudocode: ``alpha="auto"`` tunes the temperature by gradient descent on
``-log_alpha * (log pi + target_entropy)`` (the second SAC paper), with ``target_entropy`` defaulting
to ``-dim(A)``; ``value_network=True`` adds the V-network of the original paper (see the
historical note), whose EMA target then replaces the twin-min soft value in the critic target.

Departures: terminal masking, warm-up with uniform actions, Adam in place of the plain gradient
steps of lines 5.9, 5.10 and 5.13, and the tanh squashing of the Gaussian onto the environment's
box (with its log-density correction, ``-sum log scale`` included, see
:class:`~rlbook.networks.SquashedGaussianActor`), which the pseudocode leaves implicit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import cast

import numpy as np
import torch

from .agent import OffPolicyAgent, OffPolicyConfig, critic_loss, gradient_step, train_agent
from .configdoc import documented, trainer_parameters
from .loop import Result, SeedResults
from .networks import Generators, QEnsemble, SquashedGaussianActor, mlp
from .targets import ema_update, make_target
from .validation import check_real

__all__ = [
    "SAC",
    "SACConfig",
    "SACValueNetwork",
    "actor_loss",
    "alpha_loss",
    "critic_loss",
    "critic_target",
    "train",
]


@documented
@dataclass(frozen=True)
class SACConfig(OffPolicyConfig):
    """SAC settings (on top of :class:`~rlbook.agent.OffPolicyConfig`)."""

    tau: float = 0.005  # EMA rate of lines 5.15-5.16 (weight of the online parameters)
    alpha: float | str = "auto"  # entropy weight alpha, or "auto" to tune it
    init_alpha: float = 1.0  # starting alpha when alpha == "auto"
    lr_alpha: float | None = None  # learning rate of log alpha (default: lr_pi)
    target_entropy: float | None = None  # entropy target when alpha == "auto" (default -dim A)
    value_network: bool = False  # the original paper's V-network (historical variant)

    def validate(self) -> None:
        super().validate()
        check_real("tau", self.tau, 0.0, 1.0, low_open=True)
        if self.alpha != "auto":
            check_real("alpha", self.alpha, 0.0)
        check_real("init_alpha", self.init_alpha, 0.0, low_open=True)
        if self.lr_alpha is not None:
            check_real("lr_alpha", self.lr_alpha, 0.0, low_open=True)
        if self.target_entropy is not None:
            check_real("target_entropy", self.target_entropy)
        if not isinstance(self.value_network, bool):
            raise ValueError(f"value_network must be True or False; got {self.value_network!r}")


def critic_target(
    q_target,
    policy,
    batch,
    gamma: float,
    alpha: float | torch.Tensor,
    generator: Generators = None,
) -> torch.Tensor:
    """Lines 5.7-5.8: ``y = r + gamma (1 - terminated) [min_j q_j_target(s', a~') - alpha log pi(a~'|s')]``."""
    with torch.no_grad():
        next_act, next_logp = policy.sample(batch.next_obs, generator)  # sac 5.7
        next_q = q_target(batch.next_obs, next_act).min(dim=-2).values
        soft_value = next_q - alpha * next_logp
        return batch.rew + gamma * (1.0 - batch.terminated) * soft_value  # sac 5.8


def actor_loss(
    q,
    policy,
    obs: torch.Tensor,
    alpha: float | torch.Tensor,
    generator: Generators = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Lines 5.12-5.13: ``mean[alpha log pi(a^|s) - min_j q_j(s, a^)]`` with ``a^ = f_phi(s, eps)``.

    Returns the loss and the log-densities (used to tune ``alpha``).
    """
    act, logp = policy.sample(obs, generator)  # sac 5.12
    q_min = q(obs, act).min(dim=-2).values
    return (alpha * logp - q_min).mean(dim=-1).sum(), logp


def alpha_loss(log_alpha: torch.Tensor, logp: torch.Tensor, target_entropy: float) -> torch.Tensor:
    """Temperature loss ``-log_alpha * (log pi + target_entropy)``: alpha grows when entropy is too low."""
    return -(log_alpha.unsqueeze(-1) * (logp.detach() + target_entropy)).mean(dim=-1).sum()


class SAC(OffPolicyAgent):
    """Algorithm ``sac``. ``update`` performs lines 5.5 to 5.17 once."""

    config_class = SACConfig
    config: SACConfig
    policy: SquashedGaussianActor
    name = "SAC"
    state_modules = ("policy", "q", "q_target")
    state_optimizers = ("q_optimizer", "policy_optimizer", "alpha_optimizer")
    state_tensors = ("log_alpha",)

    def __init__(self, env, config: SACConfig, seed_seq: np.random.SeedSequence):
        super().__init__(env, config, seed_seq)
        c = config
        # sac 1
        self.policy = SquashedGaussianActor(self.obs_dim, self.low, self.high, c.hidden)
        self.q = QEnsemble(self.obs_dim, self.act_dim, c.hidden, n=2)
        self.policy.to(self.device)
        self.q.to(self.device)
        # sac 2
        self.q_target = make_target(self.q)
        self.auto_alpha = c.alpha == "auto"
        start = c.init_alpha if self.auto_alpha else max(float(c.alpha), 1e-30)
        self.log_alpha = torch.tensor(math.log(start), device=self.device, requires_grad=True)
        self.make_optimizers()
        self.target_entropy = (
            -float(self.act_dim) if c.target_entropy is None else float(c.target_entropy)
        )

    def make_optimizers(self) -> None:
        c = self.config
        self.q_params = list(self.q.parameters())
        self.policy_params = list(self.policy.parameters())
        self.q_optimizer = self.adam(self.q_params, c.lr_q)
        self.policy_optimizer = self.adam(self.policy_params, c.lr_pi)
        self.alpha_optimizer = self.adam([self.log_alpha], c.lr_alpha or c.lr_pi)

    @property
    def alpha(self) -> float | np.ndarray:
        """The current entropy weight (0 when the config fixes alpha = 0); in a batch of runs,
        one per run."""
        if not self.auto_alpha and self.config.alpha == 0:
            return 0.0
        alpha = self.log_alpha.detach().exp()
        return float(alpha) if self.members is None else alpha.cpu().numpy()

    def update_alpha(self) -> float | torch.Tensor:
        """alpha as the update multiplies it: a float for one run, shape ``(runs, 1)`` in a batch."""
        if self.members is None or (not self.auto_alpha and self.config.alpha == 0):
            return cast(float, self.alpha)  # a float here: one run, or alpha fixed at 0
        return self.log_alpha.detach().exp().unsqueeze(-1)

    @torch.no_grad()
    def act(self, obs: np.ndarray, explore: bool = True) -> np.ndarray:
        """Line 5.2: sample ``a ~ pi_phi(.|s)`` (explore) or take ``tanh(mu)`` (evaluate)."""
        obs_t = self._act_input(obs)
        if explore:
            act, _ = self.policy.sample(obs_t, self.generator)  # sac 5.2
        else:
            act = self.policy(obs_t)
        return self._act_output(act)

    @classmethod
    def for_config(cls, config: SACConfig) -> type:
        """The class that runs ``config``: :class:`SACValueNetwork` for ``value_network=True``."""
        return SACValueNetwork if config.value_network else cls

    def temperature_step(self, logp: torch.Tensor, info: dict) -> None:
        """With ``alpha="auto"``: one step on the temperature loss (:func:`alpha_loss`), and the
        alpha this update used in ``info``; nothing with a fixed alpha."""
        if self.auto_alpha:
            info["alpha"] = self.update_alpha()
            info["loss_alpha"] = loss_alpha = alpha_loss(self.log_alpha, logp, self.target_entropy)
            gradient_step(self.alpha_optimizer, loss_alpha, [self.log_alpha])

    def soft_target(self, batch, alpha: float | torch.Tensor) -> torch.Tensor:
        """Lines 5.7-5.8: the critics' target ``y`` (:func:`critic_target`)."""
        c = self.config
        return critic_target(self.q_target, self.policy, batch, c.gamma, alpha, self.generator)

    def value_step(self, batch, alpha: float | torch.Tensor, info: dict) -> None:
        """After the actor's step: nothing here (:class:`SACValueNetwork` steps its V-network)."""

    def update(self) -> dict:
        """Lines 5.5-5.17 of Algorithm ``sac``, in order, and the temperature step
        (:meth:`temperature_step`, nothing when alpha is fixed). :class:`SACValueNetwork` runs
        this update too, with its own :meth:`soft_target` and :meth:`value_step`."""
        c = self.config
        alpha = self.update_alpha()
        # sac 5.5
        batch = self.buffer.sample(c.batch_size)
        y = self.soft_target(batch, alpha)
        loss_q = critic_loss(self.q, y, batch)
        # sac 5.9-5.10
        gradient_step(self.q_optimizer, loss_q, self.q_params)
        loss_pi, logp = actor_loss(self.q, self.policy, batch.obs, alpha, self.generator)
        # sac 5.13
        gradient_step(self.policy_optimizer, loss_pi, self.policy_params)
        info = {"loss_q": loss_q, "loss_pi": loss_pi, "target": y.mean()}  # NaN-checked
        self.value_step(batch, alpha, info)  # the V-network variant's; nothing in the box
        self.temperature_step(logp, info)  # automatic alpha; the box fixes alpha
        # sac 5.15-5.16
        ema_update(self.q_target, self.q, c.tau)
        # sac 5.17
        self.updates += 1
        return info


class SACValueNetwork(SAC):
    """The historical variant of the original SAC paper (``value_network=True``): a state-value
    network ``v_psi(s)`` with an EMA target gives the critics' target,
    ``y = r + gamma (1 - terminated) v_target(s')``, and is itself regressed on
    ``min_j q_j(s, a) - alpha log pi(a|s)`` with a fresh ``a ~ pi(.|s)``. Otherwise as :class:`SAC`."""

    name = "SAC-V"
    state_modules = (*SAC.state_modules, "v", "v_target")
    state_optimizers = (*SAC.state_optimizers, "v_optimizer")

    def __init__(self, env, config: SACConfig, seed_seq: np.random.SeedSequence):
        super().__init__(env, config, seed_seq)
        self.v = mlp(self.obs_dim, 1, config.hidden).to(self.device)
        self.v_target = make_target(self.v)
        self.make_optimizers()

    def make_optimizers(self) -> None:
        super().make_optimizers()
        if hasattr(self, "v"):  # SAC's __init__ calls this before v exists
            self.v_params = list(self.v.parameters())
            self.v_optimizer = self.adam(self.v_params, self.config.lr_q)

    def soft_target(self, batch, alpha: float | torch.Tensor) -> torch.Tensor:
        """The critics' target from the V-network's EMA target,
        ``y = r + gamma (1 - terminated) v_target(s')`` (``alpha`` enters through ``v``)."""
        with torch.no_grad():
            v_next = self.v_target(batch.next_obs).squeeze(-1)
            return batch.rew + self.config.gamma * (1.0 - batch.terminated) * v_next

    def value_step(self, batch, alpha: float | torch.Tensor, info: dict) -> None:
        """After the actor's step: ``v_psi`` regressed on ``min_j q_j(s, a) - alpha log pi(a|s)``
        with a fresh ``a ~ pi(.|s)``, then its EMA target; ``loss_v`` goes in ``info``."""
        with torch.no_grad():
            act, logp_v = self.policy.sample(batch.obs, self.generator)
            v_y = self.q(batch.obs, act).min(dim=-2).values - alpha * logp_v
        loss_v = ((self.v(batch.obs).squeeze(-1) - v_y) ** 2).mean(dim=-1).sum()
        gradient_step(self.v_optimizer, loss_v, self.v_params)
        ema_update(self.v_target, self.v, self.config.tau)
        info["loss_v"] = loss_v


@trainer_parameters(SACConfig)
def train(
    env="Pendulum-v1",
    config: SACConfig | None = None,
    *,
    seed: int = 0,
    seeds=None,
    progress: bool | None = None,
    callback=None,
    **overrides,
) -> Result | SeedResults:
    """Train SAC on ``env``; a :class:`~rlbook.loop.Result` (``SeedResults`` with ``seeds``)."""
    return train_agent(SAC, env, config, seed, progress, overrides, callback, seeds)
