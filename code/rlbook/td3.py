"""Algorithm ``td3``: Twin Delayed DDPG (Fujimoto et al. 2018).

TD3 is DDPG (:mod:`rlbook.ddpg`) with three changes, each a separate switch of :class:`TD3Config`
so that a chapter can remove them one at a time:

1. **twin critics** (``twin="min"``, lines 5.8.2, 5.10-5.11): two critics ``q_a``, ``q_b`` trained on the
   same minibatch toward the same target, which uses the minimum of their targets. ``twin="mean"`` averages them instead and
   ``twin="none"`` keeps DDPG's single critic;
2. **target policy smoothing** (``smoothing=True``, line 5.8.1): clipped Gaussian noise on the target
   action, ``a~ = policy_target(s') + clip(eps, -noise_clip, noise_clip)``, ``eps ~ N(0, target_noise^2)``;
3. **delayed policy updates** (``policy_delay=2``, line 5.13): the actor and all targets change only
   every ``policy_delay`` critic updates.

Targets are EMA averages with rate ``tau`` (lines 5.13.2-5.13.4) and exploration is Gaussian (5.3).
Line numbers are the box's in full: the text of the chapter calls line 5.8.1 "line 8.1".
With ``twin="none"``, ``smoothing=False`` and ``policy_delay=1`` this is DDPG with EMA targets and
Gaussian exploration noise (``DDPGConfig`` defaults to OU noise). ``twin="mean"`` is a variant,
not TD3's rule and not DDPG's.

Departures from the pseudocode: as for DDPG (terminal masking, warm-up, noise in normalized
action units, clipping to the box). The smoothed target action is also clipped to the box, as in
the authors' code.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from . import ddpg
from .agent import critic_loss, gradient_step, train_agent
from .configdoc import documented, trainer_parameters
from .ddpg import DDPG, DDPGConfig
from .loop import Result, SeedResults
from .networks import Generators, standard_normal
from .targets import ema_update
from .validation import check_choice, check_int, check_real

__all__ = ["TD3", "TD3Config", "critic_target", "smoothed_target_action", "train"]


@documented
@dataclass(frozen=True)
class TD3Config(DDPGConfig):
    """TD3 settings: DDPG's, with TD3's defaults and its three switches."""

    target_update: str = "ema"  # TD3 always uses EMA targets (lines 5.13.2-5.13.4)
    noise: str = "gaussian"  # line 5.3: uncorrelated Gaussian exploration
    twin: str = "min"  # change 1: "min" (TD3), "mean" or "none" (a single critic, as DDPG)
    smoothing: bool = True  # change 2: target policy smoothing
    target_noise: float = 0.2  # sigma of line 5.8.1, normalized action units
    noise_clip: float = 0.5  # c of line 5.8.1, normalized action units
    policy_delay: int = 2  # change 3: d of line 5.13

    def validate(self) -> None:
        super().validate()
        if self.target_update != "ema":
            raise ValueError(f"target_update must be 'ema' for TD3; got {self.target_update!r}")
        check_choice("twin", self.twin, ("min", "mean", "none"))
        if not isinstance(self.smoothing, bool):
            raise ValueError(f"smoothing must be True or False; got {self.smoothing!r}")
        check_real("target_noise", self.target_noise, 0.0)
        check_real("noise_clip", self.noise_clip, 0.0)
        check_int("policy_delay", self.policy_delay, 1)


def smoothed_target_action(
    policy_target,
    next_obs,
    target_noise: float,
    noise_clip: float,
    generator: Generators = None,
) -> torch.Tensor:
    """Line 8.1: ``policy_target(s') + clip(eps, -c, c)``, in normalized units, kept in the box."""
    a = policy_target(next_obs)
    rescale = policy_target.rescale
    eps = standard_normal(a.shape, generator, device=a.device, dtype=a.dtype) * target_noise
    eps = eps.clamp(-noise_clip, noise_clip)  # td3 5.8.1
    unit = (rescale.unscale(a) + eps).clamp(-1.0, 1.0)
    return rescale(unit)


def critic_target(
    q_target,
    policy_target,
    batch,
    gamma: float,
    *,
    twin: str = "min",
    smoothing: bool = True,
    target_noise: float = 0.2,
    noise_clip: float = 0.5,
    generator: Generators = None,
) -> torch.Tensor:
    """Lines 8.1-8.2: ``y = r + gamma (1 - terminated) min_j q_j_target(s', a~)``."""
    with torch.no_grad():
        if smoothing:
            next_act = smoothed_target_action(
                policy_target, batch.next_obs, target_noise, noise_clip, generator
            )
        else:
            next_act = policy_target(batch.next_obs)
        next_q = q_target(batch.next_obs, next_act)  # shape ([runs,] n_critics, batch)
        if twin == "min":
            next_q = next_q.min(dim=-2).values  # td3 5.8.2
        elif twin == "mean":
            next_q = next_q.mean(dim=-2)
        else:
            next_q = next_q[..., 0, :]
        return batch.rew + gamma * (1.0 - batch.terminated) * next_q


class TD3(DDPG):
    """Algorithm ``td3``: DDPG's networks, acting and noise (:class:`~rlbook.ddpg.DDPG`),
    with its own update below, in box order; each of the three changes has its switch."""

    config_class = TD3Config
    config: TD3Config
    name = "TD3"

    @property
    def n_critics(self) -> int:  # change 1: q_a and q_b (one critic with twin="none")
        return 1 if self.config.twin == "none" else 2

    def update(self) -> dict:
        """Lines 5.6-5.14 of Algorithm ``td3``, in order."""
        c = self.config
        # td3 5.6
        batch = self.buffer.sample(c.batch_size)
        # td3 5.8-5.8.2 (changes 1 and 2: the min of the twins, a smoothed target action)
        y = critic_target(
            self.q_target,
            self.policy_target,
            batch,
            c.gamma,
            twin=c.twin,
            smoothing=c.smoothing,
            target_noise=c.target_noise,
            noise_clip=c.noise_clip,
            generator=self.generator,
        )
        loss_q = critic_loss(self.q, y, batch)  # both critics toward the same y
        # td3 5.10-5.11
        gradient_step(self.q_optimizer, loss_q, self.q_params)
        info = {"loss_q": loss_q, "target": y.mean()}  # NaN-checked by the loop
        # td3 5.13 (change 3: the actor and the targets move every policy_delay updates)
        if self.updates % c.policy_delay == 0:
            info["loss_pi"] = loss_pi = actor_loss(self.q, self.policy, batch.obs)  # on q_a
            # td3 5.13.1
            gradient_step(self.policy_optimizer, loss_pi, self.policy_params)
            # td3 5.13.2-5.13.3
            ema_update(self.q_target, self.q, c.tau)
            # td3 5.13.4
            ema_update(self.policy_target, self.policy, c.tau)
        # td3 5.14
        self.updates += 1
        return info


# The actor objective is DDPG's, applied to q_a (line 5.13.1); the critic loss (each critic of
# the ensemble regressed on the same target) is the shared rlbook.agent.critic_loss.
actor_loss = ddpg.actor_loss


@trainer_parameters(TD3Config)
def train(
    env="Pendulum-v1",
    config: TD3Config | None = None,
    *,
    seed: int = 0,
    seeds=None,
    progress: bool | None = None,
    callback=None,
    **overrides,
) -> Result | SeedResults:
    """Train TD3 on ``env``; a :class:`~rlbook.loop.Result` (``SeedResults`` with ``seeds``)."""
    return train_agent(TD3, env, config, seed, progress, overrides, callback, seeds)
