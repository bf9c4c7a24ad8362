"""Checks of the actor-critic exercises: DDPG's OU noise and EMA target update, TD3's target,
SAC's squashed Gaussian log-density, policy loss and temperature loss.

In each checker, ``variant(**switches)`` is the reference with its switches at their defaults
(``reference = variant()``); each mistake is ``variant`` with one switch changed.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from .grading import CheckResult, _grade, _QuadQ, _rng

__all__ = [
    "check_ema_update",
    "check_ou_step",
    "check_sac_actor_loss",
    "check_squashed_gaussian_log_prob",
    "check_td3_target",
    "check_temperature_loss",
]


# ------------------------------------------------------------------------------------------------
# DDPG
# ------------------------------------------------------------------------------------------------
def check_ou_step(fn, seed: int = 0, say: bool = True) -> CheckResult:
    """``fn(x, theta, mu, sigma, dt, eps)``: one Euler-Maruyama step of the OU process,
    ``x + theta (mu - x) dt + sigma sqrt(dt) eps``."""
    r = _rng(seed)

    def variant(sqrt_dt=True, toward_mu=True, drift_dt=True):
        def ou_step(x, theta, mu, sigma, dt, eps):
            pull = theta * ((mu - x) if toward_mu else (x - mu))
            drift = pull * dt if drift_dt else pull
            return x + drift + sigma * (math.sqrt(dt) if sqrt_dt else dt) * eps

        return ou_step

    reference = variant()
    cases = [
        ("scalar", dict(x=0.5, theta=0.15, mu=0.0, sigma=0.2, dt=0.01, eps=1.3)),
        (
            "vector, mu != 0",
            dict(x=r.normal(size=3), theta=1.0, mu=0.5, sigma=0.3, dt=0.1, eps=r.normal(size=3)),
        ),
        (
            "no noise: pure mean reversion",
            dict(x=np.array([2.0, -2.0]), theta=2.0, mu=0.0, sigma=0.0, dt=0.25, eps=np.zeros(2)),
        ),
    ]
    mistakes = [
        ("scaling the noise by dt instead of sqrt(dt)", variant(sqrt_dt=False)),
        ("pulling away from mu (x - mu instead of mu - x)", variant(toward_mu=False)),
        ("forgetting dt in the drift", variant(drift_dt=False)),
    ]
    return _grade(
        "OU step",
        fn,
        reference,
        cases,
        mistakes,
        "the drift is theta (mu - x) dt, the diffusion sigma sqrt(dt) eps.",
        say=say,
    )


def check_ema_update(fn, seed: int = 0, say: bool = True) -> CheckResult:
    """``fn(target, online, tau)`` on arrays: the new target ``tau online + (1 - tau) target``."""
    r = _rng(seed)

    def variant(tau_on_target=False):
        def ema_update(target, online, tau):
            if tau_on_target:
                target, online = online, target
            return tau * online + (1 - tau) * target

        return ema_update

    reference = variant()
    cases = [
        (f"tau = {t}", dict(target=r.normal(size=4), online=r.normal(size=4), tau=t))
        for t in (0.005, 0.3, 1.0)
    ]
    mistakes = [("tau on the wrong side (tau weighting the target)", variant(tau_on_target=True))]
    return _grade(
        "EMA target update",
        fn,
        reference,
        cases,
        mistakes,
        "tau weights the online parameters: a small tau moves the target slowly.",
        say=say,
    )


# ------------------------------------------------------------------------------------------------
# TD3
# ------------------------------------------------------------------------------------------------
def check_td3_target(fn, seed: int = 0, say: bool = True) -> CheckResult:
    """``fn(q_a, q_b, policy_target, rew, next_obs, terminated, gamma, eps, noise_clip, low, high)``:
    TD3's target (lines 8.1-8.2) with the smoothing noise ``eps`` given:
    ``a~ = clip(policy_target(s') + clip(eps, -c, c), low, high)`` and
    ``y = r + gamma (1 - terminated) min(q_a(s', a~), q_b(s', a~))``. Arrays throughout."""
    r = _rng(seed)

    def variant(pick=np.minimum, clip_noise=True, clip_box=True, mask=True):
        """``pick``: how the two critics' values at the smoothed action are combined."""

        def td3_target(
            q_a, q_b, policy_target, rew, next_obs, terminated, gamma, eps, noise_clip, low, high
        ):
            e = np.clip(eps, -noise_clip, noise_clip) if clip_noise else eps
            a = policy_target(next_obs) + e
            a = np.clip(a, low, high) if clip_box else a
            m = (1 - terminated) if mask else 1.0
            return rew + gamma * m * pick(q_a(next_obs, a), q_b(next_obs, a))

        return td3_target

    reference = variant()

    def policy(s):
        return 0.8 * np.tanh(np.asarray(s)).sum(-1, keepdims=True)

    policy.description = "policy(s) = 0.8 tanh(s)"

    def case(n=6, term=None, scale=0.3):
        return dict(
            q_a=_QuadQ(0.4, 0.5),
            q_b=_QuadQ(-0.3, 0.2),
            policy_target=policy,
            rew=r.normal(size=n),
            next_obs=r.normal(size=(n, 1)),
            terminated=(r.random(n) < 0.3).astype(float) if term is None else np.full(n, term),
            gamma=0.99,
            eps=scale * r.normal(size=(n, 1)),
            noise_clip=0.5,
            low=-1.0,
            high=1.0,
        )

    cases = [
        ("small noise, no terminal states", case(term=0.0, scale=0.1)),
        ("noise beyond the clip", case(scale=2.0)),
        ("random batch", case(32)),
    ]
    mistakes = [
        ("the max of the two critics instead of the min", variant(pick=np.maximum)),
        ("not clipping the smoothing noise to [-c, c]", variant(clip_noise=False)),
        ("not clipping the smoothed action to the action box", variant(clip_box=False)),
        ("a target without the terminal mask", variant(mask=False)),
        ("using only q_a", variant(pick=lambda x, y: x)),
    ]
    return _grade(
        "TD3 target",
        fn,
        reference,
        cases,
        mistakes,
        "clip the noise, then the action; the pessimistic critic is the min.",
        say=say,
    )


# ------------------------------------------------------------------------------------------------
# SAC
# ------------------------------------------------------------------------------------------------
def check_squashed_gaussian_log_prob(fn, seed: int = 0, say: bool = True) -> CheckResult:
    """``fn(mu, log_std, u, scale)`` (torch tensors, shape ``(n, m)``; ``scale`` of shape ``(m,)``):
    the log-density of ``a = scale * tanh(u)`` where ``u ~ N(mu, exp(log_std)^2)``, summed over the
    ``m`` action dimensions: ``log N(u) - sum_j log(scale_j (1 - tanh(u_j)^2))``, with the
    logarithm computed stably as ``log scale_j + 2 (log 2 - u_j - softplus(-2 u_j))``. (Rescaling to
    a box ``[low, high]`` adds a shift, which does not change the density.) One case has ``|u|`` up
    to 30, where ``tanh(u)`` rounds to 1 in float64 and the naive form is infinite."""
    g = torch.Generator().manual_seed(seed)

    def variant(correction_sign=-1, scale_in_correction=True, reduce=torch.sum, naive=False):
        """``correction_sign``: the sign of the log-Jacobian term (0: left out); ``reduce``: over
        the action dimensions; ``naive``: ``log(scale (1 - tanh(u)^2))`` as written."""

        def squashed_log_prob(mu, log_std, u, scale):
            out = torch.distributions.Normal(mu, log_std.exp()).log_prob(u)
            if correction_sign:
                s = scale if scale_in_correction else torch.ones_like(scale)
                if naive:
                    log_det = torch.log(s * (1 - torch.tanh(u) ** 2))
                else:
                    log_det = torch.log(s) + 2 * (
                        math.log(2) - u - torch.nn.functional.softplus(-2 * u)
                    )
                out = out + correction_sign * log_det
            return reduce(out, -1)

        return squashed_log_prob

    reference = variant()

    def case(n, m, scale, spread=1.0):
        return dict(
            mu=torch.randn(n, m, generator=g, dtype=torch.float64),
            log_std=0.3 * torch.randn(n, m, generator=g, dtype=torch.float64),
            u=spread * torch.randn(n, m, generator=g, dtype=torch.float64),
            scale=torch.full((m,), scale, dtype=torch.float64),
        )

    large = case(6, 2, 2.0, spread=15.0)
    # whatever the draws, two entries beyond float64's |u| ~ 19, where tanh(u) rounds to 1
    large["u"][0] = torch.tensor([30.0, -25.0], dtype=torch.float64)
    cases = [
        ("scale 1, one dimension", case(5, 1, 1.0)),
        ("scale 2 (Pendulum)", case(5, 1, 2.0)),
        ("three dimensions, scale 0.5", case(8, 3, 0.5)),
        ("large |u| (spread 15, up to 30), scale 2", large),
    ]
    mistakes = [
        ("forgetting the tanh correction", variant(correction_sign=0)),
        ("forgetting the action scale in the correction", variant(scale_in_correction=False)),
        ("adding the correction instead of subtracting it", variant(correction_sign=1)),
        ("not summing over action dimensions (or a mean)", variant(reduce=torch.mean)),
        (
            "the naive log(1 - tanh(u)^2), which is -inf for large |u| in float32 (|u| above "
            "about 9; in float64 above about 19)",
            variant(naive=True),
        ),
    ]
    return _grade(
        "squashed Gaussian log-density",
        fn,
        reference,
        cases,
        mistakes,
        "change of variables: subtract log |da/du| = sum_j log(scale_j (1 - tanh^2 u_j)), computed "
        "as log scale_j + 2 (log 2 - u_j - softplus(-2 u_j)).",
        say=say,
    )


def check_sac_actor_loss(fn, seed: int = 0, say: bool = True) -> CheckResult:
    """``fn(q_values, logp, alpha)`` with ``q_values`` of shape ``(2, n)`` (both critics at the
    reparameterised actions) and ``logp`` of shape ``(n,)``: SAC's policy loss
    ``mean_i [alpha logp_i - min_j q_values[j, i]]``."""
    g = torch.Generator().manual_seed(seed)

    def variant(pick=torch.amin, entropy_sign=1, sign=1):
        """``pick``: how the two critics are combined; ``entropy_sign``: the sign of the alpha
        log pi term; ``sign``: the sign of the whole loss."""

        def sac_policy_loss(q_values, logp, alpha):
            return sign * (entropy_sign * alpha * logp - pick(q_values, 0)).mean()

        return sac_policy_loss

    reference = variant()
    cases = [
        (
            f"alpha = {a}",
            dict(
                q_values=torch.randn(2, 7, generator=g), logp=torch.randn(7, generator=g), alpha=a
            ),
        )
        for a in (0.2, 1.0, 0.0)
    ]
    mistakes = [
        ("the max of the critics", variant(pick=torch.amax)),
        ("the entropy term with the wrong sign", variant(entropy_sign=-1)),
        ("maximizing instead of minimizing (overall sign)", variant(sign=-1)),
    ]
    return _grade(
        "SAC policy loss",
        fn,
        reference,
        cases,
        mistakes,
        "the policy wants high q and high entropy (low log pi): minimize alpha log pi - min q.",
        say=say,
    )


def check_temperature_loss(fn, seed: int = 0, say: bool = True) -> CheckResult:
    """``fn(log_alpha, logp, target_entropy)`` with ``log_alpha`` a 0-dim tensor, ``logp`` the
    log-densities of ``n`` sampled actions (shape ``(n,)``) and ``target_entropy`` a float: SAC's
    temperature loss ``-mean_i log_alpha (logp_i + target_entropy)``, the dual objective
    ``log_alpha (H - target)`` with the entropy ``H`` estimated by ``-mean logp``."""
    g = torch.Generator().manual_seed(seed)

    def variant(sign=-1.0, target_sign=1.0, exp=False):
        def temperature_loss(log_alpha, logp, target_entropy):
            weight = log_alpha.exp() if exp else log_alpha
            return sign * (weight * (logp + target_sign * target_entropy)).mean()

        return temperature_loss

    reference = variant()

    def case(alpha, target, shift):
        return dict(
            log_alpha=torch.tensor(math.log(alpha), dtype=torch.float64),
            logp=shift + torch.randn(8, generator=g, dtype=torch.float64),
            target_entropy=target,
        )

    # log alpha = 0 (alpha = 1) would make every candidate 0: the cases avoid it
    cases = [
        ("entropy below the target (alpha should grow)", case(0.2, -1.0, 2.0)),
        ("entropy above the target (alpha should shrink)", case(2.0, -1.0, -2.0)),
        ("three action dimensions", case(0.05, -3.0, 0.5)),
    ]
    mistakes = [
        ("the opposite sign (alpha would fall when the entropy is too low)", variant(sign=1.0)),
        ("log pi - target_entropy (the target's sign)", variant(target_sign=-1.0)),
        (
            "alpha = exp(log_alpha) in place of log_alpha (the same direction of the step, but "
            "not the loss asked for)",
            variant(exp=True),
        ),
    ]
    return _grade(
        "temperature loss",
        fn,
        reference,
        cases,
        mistakes,
        "the dual minimizes log_alpha (H - target) with H = -mean logp.",
        say=say,
    )
