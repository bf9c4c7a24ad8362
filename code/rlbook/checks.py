"""Self-checks for the book's exercises: one function per exercise.

Each ``check_*`` calls a student's function on randomized inputs and edge cases, compares it with
the reference, and prints either a pass or the *first* input where it differs, with the expected
and actual values and a hint. When the wrong answer is one of the mistakes people typically make
(a max for a min, a missing tanh correction, tau on the wrong side, an off-by-one in d, a dropped
discount...), the hint names it. A function that still raises ``NotImplementedError`` (the
skeletons in the chapters) is reported as not done yet, so an exercise cell never fails a build.

Every check returns a :class:`CheckResult`, true when the function passed.
"""

from __future__ import annotations

import copy
import inspect
import math
from dataclasses import dataclass

import numpy as np
import torch

__all__ = [
    "CheckResult",
    "check_amortized_policy_loss",
    "check_consistency_error",
    "check_double_dqn_target",
    "check_ema_update",
    "check_euler_residual",
    "check_explicit_max_target",
    "check_nfqca_policy_loss",
    "check_ou_step",
    "check_sac_actor_loss",
    "check_smooth_max",
    "check_squashed_gaussian_log_prob",
    "check_td3_target",
    "check_temperature_loss",
]


@dataclass
class CheckResult:
    """Outcome of a check: ``passed``, how many cases ran, and the message that was printed."""

    name: str
    passed: bool
    cases: int
    message: str
    printed: bool = False

    def __bool__(self) -> bool:
        return self.passed

    def __repr__(self) -> str:
        return f"CheckResult({self.name!r}, passed={self.passed}, cases={self.cases})"

    def _ipython_display_(self) -> None:
        """As a cell's last value, show nothing more: the check has printed its message."""
        if not self.printed:
            print(self.message)


def _as_array(x) -> np.ndarray:
    if isinstance(x, torch.Tensor):
        return x.detach().cpu().double().numpy()
    return np.asarray(x, dtype=float)


def _show(x) -> str:
    if callable(x):
        return getattr(x, "description", getattr(x, "__name__", "a function"))
    a = _as_array(x) if not isinstance(x, int | float) else np.asarray(x)
    if a.size > 6:
        return (
            f"array of shape {a.shape}, first values {np.array2string(a.ravel()[:4], precision=4)}"
        )
    return np.array2string(a, precision=6) if a.ndim else f"{a.item():.6g}"


def _grade(name, student, reference, cases, mistakes=(), hint="", rtol=1e-5, atol=1e-6, say=True):
    """Run ``student`` and ``reference`` on every case (a ``(description, kwargs)`` pair).

    The tolerance is that of two float32 computations of the same formula in another order (or
    on another CPU): eps = 1.2e-7 per operation, a few ulp on the values of order 1 used here, so
    1e-5 relative and 1e-6 absolute; float64 answers agree far inside it. The listed mistakes
    change the result by 1e-2 or more on some case.
    """

    def report(message: str, passed: bool, n: int) -> CheckResult:
        if say:
            print(message)
        return CheckResult(name, passed, n, message, printed=say)

    # The student's function is called positionally, in the documented order (the reference's
    # parameters): a correct answer whose parameters are named differently passes too.
    order = list(inspect.signature(reference).parameters)
    for n, (description, kwargs) in enumerate(cases, start=1):
        expected = _as_array(reference(**copy.deepcopy(kwargs)))
        try:  # on a copy: a function that modifies its inputs in place cannot spoil the check
            args = copy.deepcopy(kwargs)
            actual_raw = student(*(args[k] for k in order))
        except NotImplementedError:
            return report(
                f"{name}: not implemented yet. Fill in the function and run this cell again.",
                False,
                n - 1,
            )
        except Exception as err:  # noqa: BLE001 - the student's error is the message
            try:  # a wrong number of parameters, not an error inside the student's code
                inspect.signature(student).bind(*order)
                takes = ""
            except (TypeError, ValueError):
                takes = f" (it is called with {len(order)} arguments, in this order: " + (
                    f"{', '.join(order)})"
                )
            return report(
                f"{name}: FAILED on case {n} ({description}): the function raised "
                f"{type(err).__name__}: {err}{takes}\n  inputs: "
                + ", ".join(f"{k} = {_show(v)}" for k, v in kwargs.items()),
                False,
                n,
            )
        actual = _as_array(actual_raw)
        if actual.shape != expected.shape:
            return report(
                f"{name}: FAILED on case {n} ({description}): expected shape {expected.shape}, "
                f"got {actual.shape}.",
                False,
                n,
            )
        if np.allclose(actual, expected, rtol=rtol, atol=atol, equal_nan=True):
            continue
        diagnosis = ""
        for label, wrong in mistakes:
            try:
                guess = _as_array(wrong(**copy.deepcopy(kwargs)))
            except Exception:  # noqa: BLE001, S112 - a mistake that does not apply to this case
                continue
            if guess.shape == actual.shape and np.allclose(actual, guess, rtol=rtol, atol=atol):
                diagnosis = f"\n  this is what {label} gives."
                break
        inputs = "\n    ".join(f"{k} = {_show(v)}" for k, v in kwargs.items())
        return report(
            f"{name}: FAILED on case {n} ({description}).\n  inputs:\n    {inputs}\n"
            f"  expected: {_show(expected)}\n  actual:   {_show(actual)}{diagnosis}"
            + (f"\n  hint: {hint}" if hint else ""),
            False,
            n,
        )
    return report(f"{name}: passed all {len(cases)} cases.", True, len(cases))


def _rng(seed):
    return np.random.default_rng(seed)


# ------------------------------------------------------------------------------------------------
# background: smoothing and DQN-family targets
# ------------------------------------------------------------------------------------------------
def check_smooth_max(fn, seed: int = 0, say: bool = True) -> CheckResult:
    """``fn(values, beta)``: the log-sum-exp smoothing ``(1/beta) log sum_a exp(beta v_a)`` over
    the last axis, computed without overflow for large ``beta * v``."""
    r = _rng(seed)

    def reference(values, beta):
        m = values.max(axis=-1, keepdims=True)
        return (m + np.log(np.exp(beta * (values - m)).sum(axis=-1, keepdims=True)) / beta)[..., 0]

    cases = [("one row", dict(values=np.array([[1.0, 2.0, 3.0]]), beta=1.0))]
    cases += [
        (f"random, beta = {b}", dict(values=r.normal(size=(4, 5)), beta=b)) for b in (0.5, 5.0)
    ]
    cases += [
        (
            "large values (naive exp overflows)",
            dict(values=np.array([[800.0, 799.0, 0.0]]), beta=1.0),
        )
    ]
    mistakes = [
        (
            "the mean of exp instead of the sum",
            lambda values, beta: reference(values, beta) - np.log(values.shape[-1]) / beta,
        ),
        ("forgetting to divide by beta", lambda values, beta: beta * reference(values, beta)),
    ]
    return _grade(
        "smooth max",
        fn,
        reference,
        cases,
        mistakes,
        "subtract the row maximum before exponentiating.",
        say=say,
    )


def check_double_dqn_target(fn, seed: int = 0, say: bool = True) -> CheckResult:
    """``fn(q_online, q_target, rew, terminated, gamma)`` with the Q-values of the next states
    ``q_online[i, a] = q(s'_i, a; theta)`` and ``q_target[i, a] = q(s'_i, a; theta_target)``:
    Double DQN's target ``r + gamma (1 - terminated) q_target[i, argmax_a q_online[i, a]]``."""
    r = _rng(seed)

    def reference(q_online, q_target, rew, terminated, gamma):
        a = q_online.argmax(axis=1)
        return rew + gamma * (1 - terminated) * q_target[np.arange(len(a)), a]

    def case(n=6, k=4, term=None):
        return dict(
            q_online=r.normal(size=(n, k)),
            q_target=r.normal(size=(n, k)),
            rew=r.normal(size=n),
            terminated=(r.random(n) < 0.3).astype(float) if term is None else np.full(n, term),
            gamma=0.9,
        )

    cases = [
        ("no terminal states", case(term=0.0)),
        ("random", case()),
        ("all terminal", case(term=1.0)),
        ("many states", case(64, 3)),
    ]
    mistakes = [
        (
            "DQN's target (max of q_target)",
            lambda q_online, q_target, rew, terminated, gamma: (
                rew + gamma * (1 - terminated) * q_target.max(1)
            ),
        ),
        (
            "evaluating with the online network",
            lambda q_online, q_target, rew, terminated, gamma: (
                rew + gamma * (1 - terminated) * q_online.max(1)
            ),
        ),
        (
            "a target without the terminal mask",
            lambda q_online, q_target, rew, terminated, gamma: reference(
                q_online, q_target, rew, np.zeros_like(terminated), gamma
            ),
        ),
    ]
    return _grade(
        "Double DQN target",
        fn,
        reference,
        cases,
        mistakes,
        "select with the online network, evaluate with the target network.",
        say=say,
    )


# ------------------------------------------------------------------------------------------------
# FQI with explicit and amortized maximization, NFQCA
# ------------------------------------------------------------------------------------------------
class _QuadQ:
    """A concave quadratic q(s, a) = -(a - K s)^2 + c s (batched, numpy and torch)."""

    description = "q(s, a) = -(a - K s)^2 + c s for a fixed K, c"

    def __init__(self, k, c):
        self.k, self.c = k, c

    def __call__(self, s, a):
        if isinstance(s, torch.Tensor):
            return -(((a - self.k * s).sum(-1)) ** 2) + self.c * s.sum(-1)
        s, a = np.asarray(s, float), np.asarray(a, float)
        return -(((a - self.k * s).sum(-1)) ** 2) + self.c * s.sum(-1)


def check_explicit_max_target(fn, seed: int = 0, say: bool = True) -> CheckResult:
    """``fn(q, rew, next_obs, terminated, gamma, actions)``: the explicit-maximization target
    ``r + gamma (1 - terminated) max_{a in actions} q(s', a)`` where ``q(s, a)`` takes batches
    ``(n, 1)`` of states and actions and ``actions`` is a 1-D grid."""
    r = _rng(seed)

    def reference(q, rew, next_obs, terminated, gamma, actions):
        n, g = len(next_obs), len(actions)
        vals = q(np.repeat(next_obs, g, 0), np.tile(actions[:, None], (n, 1))).reshape(n, g)
        return rew + gamma * (1 - terminated) * vals.max(1)

    def case(n=5, term=None):
        return dict(
            q=_QuadQ(0.7, 0.3),
            rew=r.normal(size=n),
            next_obs=r.uniform(-2, 2, (n, 1)),
            terminated=(r.random(n) < 0.4).astype(float) if term is None else np.full(n, term),
            gamma=0.95,
            actions=np.linspace(-1, 1, 21),
        )

    cases = [("no terminal states", case(term=0.0)), ("random", case()), ("more states", case(40))]
    mistakes = [
        (
            "the min over actions",
            lambda q, rew, next_obs, terminated, gamma, actions: (
                rew
                + gamma
                * (1 - terminated)
                * q(
                    np.repeat(next_obs, len(actions), 0),
                    np.tile(actions[:, None], (len(next_obs), 1)),
                )
                .reshape(len(next_obs), -1)
                .min(1)
            ),
        ),
        (
            "a target without the discount",
            lambda q, rew, next_obs, terminated, gamma, actions: reference(
                q, rew, next_obs, terminated, 1.0, actions
            ),
        ),
        (
            "a target without the terminal mask",
            lambda q, rew, next_obs, terminated, gamma, actions: reference(
                q, rew, next_obs, np.zeros_like(terminated), gamma, actions
            ),
        ),
    ]
    return _grade(
        "explicit-maximization target",
        fn,
        reference,
        cases,
        mistakes,
        "evaluate q at every (s', a) pair of the grid and take the max over a.",
        say=say,
    )


def check_amortized_policy_loss(fn, seed: int = 0, say: bool = True) -> CheckResult:
    """``fn(policy, states, best_actions)``: the policy regression loss of amortized FQI, the mean
    over the batch of ``||policy(s) - a*(s)||^2`` (torch tensors; the result is a scalar tensor)."""
    g = torch.Generator().manual_seed(seed)

    def reference(policy, states, best_actions):
        return ((policy(states) - best_actions) ** 2).sum(-1).mean()

    def case(n, m):
        lin = torch.nn.Linear(3, m)
        with torch.no_grad():
            for p in lin.parameters():
                p.copy_(torch.randn(p.shape, generator=g))
        lin.description = f"a linear policy R^3 -> R^{m}"
        return dict(
            policy=lin,
            states=torch.randn(n, 3, generator=g),
            best_actions=torch.randn(n, m, generator=g),
        )

    cases = [("one action dimension", case(8, 1)), ("two action dimensions", case(16, 2))]
    mistakes = [
        (
            "averaging over action dimensions too (mean instead of sum over them)",
            lambda policy, states, best_actions: ((policy(states) - best_actions) ** 2).mean(),
        ),
        (
            "a sum over the batch instead of a mean",
            lambda policy, states, best_actions: ((policy(states) - best_actions) ** 2).sum(),
        ),
    ]
    return _grade(
        "amortized policy regression loss",
        fn,
        reference,
        cases,
        mistakes,
        "squared distance per sample, summed over action dimensions, averaged over the batch.",
        say=say,
    )


def check_nfqca_policy_loss(fn, seed: int = 0, say: bool = True) -> CheckResult:
    """``fn(q, policy, obs)``: the loss NFQCA's policy step minimizes, ``-mean_i q(s_i, policy(s_i))``
    (gradient *ascent* on the critic), as a scalar tensor."""
    g = torch.Generator().manual_seed(seed)
    q = _QuadQ(0.5, -0.2)

    def reference(q, policy, obs):
        return -q(obs, policy(obs)).mean()

    def case(n):
        lin = torch.nn.Linear(1, 1)
        with torch.no_grad():
            lin.weight.fill_(float(torch.randn(1, generator=g)))
            lin.bias.fill_(float(torch.randn(1, generator=g)))
        lin.description = "a linear policy a = w s + b"
        return dict(q=q, policy=lin, obs=torch.randn(n, 1, generator=g))

    cases = [("small batch", case(4)), ("larger batch", case(32))]
    mistakes = [
        (
            "+mean q (descending the critic instead of ascending it)",
            lambda q, policy, obs: q(obs, policy(obs)).mean(),
        ),
    ]
    return _grade(
        "NFQCA policy loss",
        fn,
        reference,
        cases,
        mistakes,
        "an optimizer minimizes: to maximize q, minimize its negative.",
        say=say,
    )


# ------------------------------------------------------------------------------------------------
# Euler equations
# ------------------------------------------------------------------------------------------------
def check_euler_residual(fn, seed: int = 0, say: bool = True) -> CheckResult:
    """``fn(k, policy, alpha, gamma, delta, sigma)``: the Euler residual of the deterministic growth
    model with CRRA utility, ``u'(c) - gamma u'(c') (alpha k'^(alpha-1) + 1 - delta)`` with
    ``c = policy(k)``, ``k' = k^alpha + (1 - delta) k - c``, ``c' = policy(k')``, ``u'(c) = c^-sigma``."""
    r = _rng(seed)

    def reference(k, policy, alpha, gamma, delta, sigma):
        c = policy(k)
        k_next = k**alpha + (1 - delta) * k - c
        c_next = policy(k_next)
        return c**-sigma - gamma * c_next**-sigma * (alpha * k_next ** (alpha - 1) + 1 - delta)

    def policy_share(share):
        def policy(k):
            return share * (np.asarray(k) ** 0.36 + 0.9 * np.asarray(k))

        policy.description = f"c(k) = {share} (k^0.36 + 0.9 k)"
        return policy

    cases = [
        (
            "log utility, full depreciation",
            dict(
                k=np.linspace(0.1, 0.5, 5),
                policy=policy_share(0.3),
                alpha=0.36,
                gamma=0.95,
                delta=1.0,
                sigma=1.0,
            ),
        ),
        (
            "CRRA 2, delta 0.1",
            dict(
                k=r.uniform(0.5, 3, 6),
                policy=policy_share(0.2),
                alpha=0.36,
                gamma=0.96,
                delta=0.1,
                sigma=2.0,
            ),
        ),
    ]
    mistakes = [
        (
            "forgetting the undepreciated capital (1 - delta) in the return",
            lambda k, policy, alpha, gamma, delta, sigma: (
                reference(k, policy, alpha, gamma, delta, sigma)
                + gamma * policy(k**alpha + (1 - delta) * k - policy(k)) ** -sigma * (1 - delta)
            ),
        ),
        (
            "the marginal product at today's k instead of k'",
            lambda k, policy, alpha, gamma, delta, sigma: (
                policy(k) ** -sigma
                - gamma
                * policy(k**alpha + (1 - delta) * k - policy(k)) ** -sigma
                * (alpha * k ** (alpha - 1) + 1 - delta)
            ),
        ),
        (
            "a plus sign between the two terms (the envelope sign)",
            lambda k, policy, alpha, gamma, delta, sigma: (
                2 * policy(k) ** -sigma - reference(k, policy, alpha, gamma, delta, sigma)
            ),
        ),
    ]
    return _grade(
        "Euler residual",
        fn,
        reference,
        cases,
        mistakes,
        "tomorrow's capital comes from today's consumption; the return on saving is "
        "f'(k') + 1 - delta.",
        say=say,
    )


# ------------------------------------------------------------------------------------------------
# DDPG, TD3, SAC
# ------------------------------------------------------------------------------------------------
def check_ou_step(fn, seed: int = 0, say: bool = True) -> CheckResult:
    """``fn(x, theta, mu, sigma, dt, eps)``: one Euler-Maruyama step of the OU process,
    ``x + theta (mu - x) dt + sigma sqrt(dt) eps``."""
    r = _rng(seed)

    def reference(x, theta, mu, sigma, dt, eps):
        return x + theta * (mu - x) * dt + sigma * math.sqrt(dt) * eps

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
        (
            "scaling the noise by dt instead of sqrt(dt)",
            lambda x, theta, mu, sigma, dt, eps: x + theta * (mu - x) * dt + sigma * dt * eps,
        ),
        (
            "pulling away from mu (x - mu instead of mu - x)",
            lambda x, theta, mu, sigma, dt, eps: (
                x + theta * (x - mu) * dt + sigma * math.sqrt(dt) * eps
            ),
        ),
        (
            "forgetting dt in the drift",
            lambda x, theta, mu, sigma, dt, eps: x + theta * (mu - x) + sigma * math.sqrt(dt) * eps,
        ),
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

    def reference(target, online, tau):
        return tau * online + (1 - tau) * target

    cases = [
        (f"tau = {t}", dict(target=r.normal(size=4), online=r.normal(size=4), tau=t))
        for t in (0.005, 0.3, 1.0)
    ]
    mistakes = [
        (
            "tau on the wrong side (tau weighting the target)",
            lambda target, online, tau: tau * target + (1 - tau) * online,
        )
    ]
    return _grade(
        "EMA target update",
        fn,
        reference,
        cases,
        mistakes,
        "tau weights the online parameters: a small tau moves the target slowly.",
        say=say,
    )


def check_td3_target(fn, seed: int = 0, say: bool = True) -> CheckResult:
    """``fn(q_a, q_b, policy_target, rew, next_obs, terminated, gamma, eps, noise_clip, low, high)``:
    TD3's target (lines 8.1-8.2) with the smoothing noise ``eps`` given:
    ``a~ = clip(policy_target(s') + clip(eps, -c, c), low, high)`` and
    ``y = r + gamma (1 - terminated) min(q_a(s', a~), q_b(s', a~))``. Arrays throughout."""
    r = _rng(seed)

    def reference(
        q_a, q_b, policy_target, rew, next_obs, terminated, gamma, eps, noise_clip, low, high
    ):
        a = np.clip(policy_target(next_obs) + np.clip(eps, -noise_clip, noise_clip), low, high)
        return rew + gamma * (1 - terminated) * np.minimum(q_a(next_obs, a), q_b(next_obs, a))

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

    def variant(pick=np.minimum, clip_noise=True, clip_box=True, mask=True):
        def wrong(
            q_a, q_b, policy_target, rew, next_obs, terminated, gamma, eps, noise_clip, low, high
        ):
            e = np.clip(eps, -noise_clip, noise_clip) if clip_noise else eps
            a = policy_target(next_obs) + e
            a = np.clip(a, low, high) if clip_box else a
            m = (1 - terminated) if mask else 1.0
            return rew + gamma * m * pick(q_a(next_obs, a), q_b(next_obs, a))

        return wrong

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


def check_squashed_gaussian_log_prob(fn, seed: int = 0, say: bool = True) -> CheckResult:
    """``fn(mu, log_std, u, scale)`` (torch tensors, shape ``(n, m)``; ``scale`` of shape ``(m,)``):
    the log-density of ``a = scale * tanh(u)`` where ``u ~ N(mu, exp(log_std)^2)``, summed over the
    ``m`` action dimensions: ``log N(u) - sum_j log(scale_j (1 - tanh(u_j)^2))``. (Rescaling to a
    box ``[low, high]`` adds a shift, which does not change the density.)"""
    g = torch.Generator().manual_seed(seed)

    def reference(mu, log_std, u, scale):
        normal = torch.distributions.Normal(mu, log_std.exp())
        return (normal.log_prob(u) - torch.log(scale * (1 - torch.tanh(u) ** 2))).sum(-1)

    def case(n, m, scale, spread=1.0):
        return dict(
            mu=torch.randn(n, m, generator=g, dtype=torch.float64),
            log_std=0.3 * torch.randn(n, m, generator=g, dtype=torch.float64),
            u=spread * torch.randn(n, m, generator=g, dtype=torch.float64),
            scale=torch.full((m,), scale, dtype=torch.float64),
        )

    cases = [
        ("scale 1, one dimension", case(5, 1, 1.0)),
        ("scale 2 (Pendulum)", case(5, 1, 2.0)),
        ("three dimensions, scale 0.5", case(8, 3, 0.5)),
    ]
    mistakes = [
        (
            "forgetting the tanh correction",
            lambda mu, log_std, u, scale: (
                torch.distributions.Normal(mu, log_std.exp()).log_prob(u).sum(-1)
            ),
        ),
        (
            "forgetting the action scale in the correction",
            lambda mu, log_std, u, scale: reference(mu, log_std, u, torch.ones_like(scale)),
        ),
        (
            "adding the correction instead of subtracting it",
            lambda mu, log_std, u, scale: (
                torch.distributions.Normal(mu, log_std.exp()).log_prob(u)
                + torch.log(scale * (1 - torch.tanh(u) ** 2))
            ).sum(-1),
        ),
        (
            "not summing over action dimensions (or a mean)",
            lambda mu, log_std, u, scale: reference(mu, log_std, u, scale) / u.shape[-1],
        ),
    ]
    return _grade(
        "squashed Gaussian log-density",
        fn,
        reference,
        cases,
        mistakes,
        "change of variables: subtract log |da/du| = sum_j log(scale_j (1 - tanh^2 u_j)).",
        say=say,
    )


def check_sac_actor_loss(fn, seed: int = 0, say: bool = True) -> CheckResult:
    """``fn(q_values, logp, alpha)`` with ``q_values`` of shape ``(2, n)`` (both critics at the
    reparameterised actions) and ``logp`` of shape ``(n,)``: SAC's policy loss
    ``mean_i [alpha logp_i - min_j q_values[j, i]]``."""
    g = torch.Generator().manual_seed(seed)

    def reference(q_values, logp, alpha):
        return (alpha * logp - q_values.min(0).values).mean()

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
        (
            "the max of the critics",
            lambda q_values, logp, alpha: (alpha * logp - q_values.max(0).values).mean(),
        ),
        (
            "the entropy term with the wrong sign",
            lambda q_values, logp, alpha: (-alpha * logp - q_values.min(0).values).mean(),
        ),
        (
            "maximizing instead of minimizing (overall sign)",
            lambda q_values, logp, alpha: -(alpha * logp - q_values.min(0).values).mean(),
        ),
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

    def reference(log_alpha, logp, target_entropy):
        return -(log_alpha * (logp + target_entropy)).mean()

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

    def variant(sign=-1.0, target_sign=1.0, exp=False):
        def wrong(log_alpha, logp, target_entropy):
            weight = log_alpha.exp() if exp else log_alpha
            return sign * (weight * (logp + target_sign * target_entropy)).mean()

        return wrong

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


# ------------------------------------------------------------------------------------------------
# PCL
# ------------------------------------------------------------------------------------------------
def check_consistency_error(fn, seed: int = 0, say: bool = True) -> CheckResult:
    """``fn(v_start, v_end, rewards, log_pi, gamma, alpha)`` for one path of length
    ``d = len(rewards)``: PCL's consistency error
    ``C = -v(s_t) + gamma^d v(s_{t+d}) + sum_{j<d} gamma^j (r_{t+j} - alpha log pi(a_{t+j}|s_{t+j}))``."""
    r = _rng(seed)

    def reference(v_start, v_end, rewards, log_pi, gamma, alpha):
        d = len(rewards)
        disc = gamma ** np.arange(d)
        return -v_start + gamma**d * v_end + np.sum(disc * (rewards - alpha * log_pi))

    def case(d):
        return dict(
            v_start=float(r.normal()),
            v_end=float(r.normal()),
            rewards=r.normal(size=d),
            log_pi=np.log(r.uniform(0.05, 1, size=d)),
            gamma=0.9,
            alpha=0.5,
        )

    cases = [(f"d = {d}", case(d)) for d in (1, 3, 7)]
    mistakes = [
        (
            "gamma^(d-1) on the end value (an off-by-one in d)",
            lambda v_start, v_end, rewards, log_pi, gamma, alpha: (
                reference(v_start, v_end, rewards, log_pi, gamma, alpha)
                + (gamma ** (len(rewards) - 1) - gamma ** len(rewards)) * v_end
            ),
        ),
        (
            "dropping the discount inside the sum",
            lambda v_start, v_end, rewards, log_pi, gamma, alpha: (
                -v_start + gamma ** len(rewards) * v_end + np.sum(rewards - alpha * log_pi)
            ),
        ),
        (
            "+alpha log pi (the entropy sign)",
            lambda v_start, v_end, rewards, log_pi, gamma, alpha: reference(
                v_start, v_end, rewards, -log_pi, gamma, alpha
            ),
        ),
    ]
    return _grade(
        "PCL consistency error",
        fn,
        reference,
        cases,
        mistakes,
        "discount the j-th reward and log-probability by gamma^j, the end value by gamma^d.",
        say=say,
    )
