"""Checks of the Euler-equation and PCL exercises: the Euler residual of the growth model and
PCL's path consistency error.

In each checker, ``variant(**switches)`` is the reference with its switches at their defaults
(``reference = variant()``); each mistake is ``variant`` with one switch changed.
"""

from __future__ import annotations

import numpy as np

from .grading import CheckResult, _grade, _rng

__all__ = ["check_consistency_error", "check_euler_residual"]


# ------------------------------------------------------------------------------------------------
# Euler equations
# ------------------------------------------------------------------------------------------------
def check_euler_residual(fn, seed: int = 0, say: bool = True) -> CheckResult:
    """``fn(k, policy, alpha, gamma, delta, sigma)``: the Euler residual of the deterministic growth
    model with CRRA utility, ``u'(c) - gamma u'(c') (alpha k'^(alpha-1) + 1 - delta)`` with
    ``c = policy(k)``, ``k' = k^alpha + (1 - delta) k - c``, ``c' = policy(k')``, ``u'(c) = c^-sigma``."""
    r = _rng(seed)

    def variant(product_at_next=True, undepreciated=True, envelope_sign=-1):
        """``product_at_next``: the marginal product at k' (True) or at k; ``undepreciated``: the
        return includes the ``1 - delta`` of capital kept; ``envelope_sign``: between the terms."""

        def euler_residual(k, policy, alpha, gamma, delta, sigma):
            c = policy(k)
            k_next = k**alpha + (1 - delta) * k - c
            c_next = policy(k_next)
            ret = alpha * (k_next if product_at_next else k) ** (alpha - 1)
            if undepreciated:
                ret = ret + 1 - delta
            return c**-sigma + envelope_sign * gamma * c_next**-sigma * ret

        return euler_residual

    reference = variant()

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
            variant(undepreciated=False),
        ),
        ("the marginal product at today's k instead of k'", variant(product_at_next=False)),
        ("a plus sign between the two terms (the envelope sign)", variant(envelope_sign=1)),
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
# PCL
# ------------------------------------------------------------------------------------------------
def check_consistency_error(fn, seed: int = 0, say: bool = True) -> CheckResult:
    """``fn(v_start, v_end, rewards, log_pi, gamma, alpha)`` for one path of length
    ``d = len(rewards)``: PCL's consistency error
    ``C = -v(s_t) + gamma^d v(s_{t+d}) + sum_{j<d} gamma^j (r_{t+j} - alpha log pi(a_{t+j}|s_{t+j}))``."""
    r = _rng(seed)

    def variant(off_by_one=False, discount=True, entropy_sign=-1):
        """``off_by_one``: gamma^(d-1) on the end value; ``discount``: gamma^j inside the sum;
        ``entropy_sign``: the sign of the alpha log pi term."""

        def consistency_error(v_start, v_end, rewards, log_pi, gamma, alpha):
            d = len(rewards)
            disc = gamma ** np.arange(d) if discount else np.ones(d)
            end = gamma ** (d - 1 if off_by_one else d)
            return -v_start + end * v_end + np.sum(disc * (rewards + entropy_sign * alpha * log_pi))

        return consistency_error

    reference = variant()

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
        ("gamma^(d-1) on the end value (an off-by-one in d)", variant(off_by_one=True)),
        ("dropping the discount inside the sum", variant(discount=False)),
        ("+alpha log pi (the entropy sign)", variant(entropy_sign=1)),
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
