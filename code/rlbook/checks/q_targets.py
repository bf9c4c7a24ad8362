"""Checks of the value-based exercises: the smooth max, Double DQN's target, FQI's explicit and
amortized maximization, NFQCA's policy loss.

In each checker, ``variant(**switches)`` is the reference with its switches at their defaults
(``reference = variant()``); each mistake is ``variant`` with one switch changed.
"""

from __future__ import annotations

import numpy as np
import torch

from .grading import CheckResult, _grade, _QuadQ, _rng

__all__ = [
    "check_amortized_policy_loss",
    "check_double_dqn_target",
    "check_explicit_max_target",
    "check_nfqca_policy_loss",
    "check_smooth_max",
]


# ------------------------------------------------------------------------------------------------
# background: smoothing and DQN-family targets
# ------------------------------------------------------------------------------------------------
def check_smooth_max(fn, seed: int = 0, say: bool = True) -> CheckResult:
    """``fn(values, beta)``: the log-sum-exp smoothing ``(1/beta) log sum_a exp(beta v_a)`` over
    the last axis, computed without overflow for large ``beta * v``."""
    r = _rng(seed)

    def variant(mean=False, divide=True):
        def smooth_max(values, beta):
            m = values.max(axis=-1, keepdims=True)
            terms = np.exp(beta * (values - m))
            total = (
                terms.mean(axis=-1, keepdims=True) if mean else terms.sum(axis=-1, keepdims=True)
            )
            smooth = m + np.log(total) / beta
            # without the 1/beta: log sum_a exp(beta v_a), beta times the smooth max
            return (smooth if divide else beta * smooth)[..., 0]

        return smooth_max

    reference = variant()
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
        ("the mean of exp instead of the sum", variant(mean=True)),
        ("forgetting to divide by beta", variant(divide=False)),
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

    def variant(select="online", evaluate="target", mask=True):
        """``select``/``evaluate``: the network whose Q-values pick / score the next action."""

        def double_dqn_target(q_online, q_target, rew, terminated, gamma):
            q = {"online": q_online, "target": q_target}
            a = q[select].argmax(axis=1)
            m = (1 - terminated) if mask else 1.0
            return rew + gamma * m * q[evaluate][np.arange(len(a)), a]

        return double_dqn_target

    reference = variant()

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
        ("DQN's target (max of q_target)", variant(select="target")),
        ("evaluating with the online network", variant(evaluate="online")),
        ("a target without the terminal mask", variant(mask=False)),
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
def check_explicit_max_target(fn, seed: int = 0, say: bool = True) -> CheckResult:
    """``fn(q, rew, next_obs, terminated, gamma, actions)``: the explicit-maximization target
    ``r + gamma (1 - terminated) max_{a in actions} q(s', a)`` where ``q(s, a)`` takes batches
    ``(n, 1)`` of states and actions and ``actions`` is a 1-D grid."""
    r = _rng(seed)

    def variant(best=np.max, discount=True, mask=True):
        """``best``: how the grid's values at each next state are reduced to one."""

        def explicit_target(q, rew, next_obs, terminated, gamma, actions):
            n, g = len(next_obs), len(actions)
            vals = q(np.repeat(next_obs, g, 0), np.tile(actions[:, None], (n, 1))).reshape(n, g)
            d = gamma if discount else 1.0
            m = (1 - terminated) if mask else 1.0
            return rew + d * m * best(vals, axis=1)

        return explicit_target

    reference = variant()

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
        ("the min over actions", variant(best=np.min)),
        ("a target without the discount", variant(discount=False)),
        ("a target without the terminal mask", variant(mask=False)),
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

    def variant(reduce=lambda sq: sq.sum(-1).mean()):
        """``reduce``: how the squared errors, shape ``(n, m)``, become the loss (the right one
        sums over the ``m`` action dimensions and averages over the ``n`` samples)."""

        def policy_regression_loss(policy, states, best_actions):
            return reduce((policy(states) - best_actions) ** 2)

        return policy_regression_loss

    reference = variant()

    def case(n, m):
        lin = torch.nn.Linear(3, m)
        with torch.no_grad():
            for p in lin.parameters():
                p.copy_(torch.randn(p.shape, generator=g))
        lin.description = f"a linear policy R^3 -> R^{m}"  # pyright: ignore[reportArgumentType]
        return dict(
            policy=lin,
            states=torch.randn(n, 3, generator=g),
            best_actions=torch.randn(n, m, generator=g),
        )

    cases = [("one action dimension", case(8, 1)), ("two action dimensions", case(16, 2))]
    mistakes = [
        (
            "averaging over action dimensions too (the mean of all n * m squares, the loss"
            " rlbook.fqi.fit_regression trains with: same minimizer, m times smaller)",
            variant(reduce=torch.mean),
        ),
        ("a sum over the batch instead of a mean", variant(reduce=torch.sum)),
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

    def variant(ascend=True):
        def nfqca_policy_loss(q, policy, obs):
            value = q(obs, policy(obs)).mean()
            return -value if ascend else value

        return nfqca_policy_loss

    reference = variant()

    def case(n):
        lin = torch.nn.Linear(1, 1)
        with torch.no_grad():
            lin.weight.fill_(float(torch.randn(1, generator=g)))
            lin.bias.fill_(float(torch.randn(1, generator=g)))
        lin.description = "a linear policy a = w s + b"  # pyright: ignore[reportArgumentType]
        return dict(q=q, policy=lin, obs=torch.randn(n, 1, generator=g))

    cases = [("small batch", case(4)), ("larger batch", case(32))]
    mistakes = [("+mean q (descending the critic instead of ascending it)", variant(ascend=False))]
    return _grade(
        "NFQCA policy loss",
        fn,
        reference,
        cases,
        mistakes,
        "an optimizer minimizes: to maximize q, minimize its negative.",
        say=say,
    )
