"""Euler-class problems: their primitives, exogenous processes and policy parametrisations.

An **Euler-class** problem (Rust 1996) has a controlled state ``s1``, an exogenous state ``s2``
with kernel ``p_z(s2'|s2)``, an action ``a``, reward ``r`` and transition ``s1' = f``, and a function
``h`` with ``df/ds1 = df/da * h`` (the Euler-class condition; ``h`` may not depend on ``s2'``).

**One argument order for every callable**: the state ``(s1, s2)`` first, then the action (or the
quantity in its place), then the next exogenous state ``s2n`` where it enters::

    r(s1, s2, a)   r_s1(s1, s2, a)   r_a(s1, s2, a)   h(s1, s2, a)   feasible(s1, s2, a)
    f(s1, s2, a, s2n)   f_a(s1, s2, a, s2n)
    inv_r_a(s1, s2, m)     the a with r_a(s1, s2, a) = m
    a_from_next(s1, s2, s1n)   the a with f(s1, s2, a, .) = s1n (deterministic transitions)
    initial_policy(s1, s2)   closed_form(s1, s2)   ShareOfUpper.upper(s1, s2)

(The text writes ``f(s1, a, s2, s2')`` and ``h(s1, a, s2)``, the action before the exogenous
state; the code puts the state first throughout.) Every callable is vectorised over numpy arrays that broadcast.

For a finite chain ``s2`` is the *index* of the chain's state, a float array of integers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from .validation import check_int, check_real

__all__ = [
    "Deterministic",
    "EulerProblem",
    "FiniteChain",
    "LevelAction",
    "LogAction",
    "LognormalAR1",
    "ShareOfUpper",
    "brock_mirman",
    "cake_eating",
    "energy_storage",
    "stochastic_growth",
]


# --- exogenous processes -----------------------------------------------------------------------
# Each has ``next(s2) -> (s2n, w)``: the next states and quadrature (or transition) weights, shape
# (len(s2), number of next states); ``continuous``: whether the policy is a polynomial in ``s2``
# too; ``n_chain``: how many separate policies (one per state of a finite chain, else 1); and, for a
# finite process, ``states``: the values of ``s2`` at which the policy is evaluated.
class Deterministic:
    """No exogenous randomness: ``s2`` is the constant 1."""

    continuous = False
    n_chain = 1

    @property
    def states(self) -> np.ndarray:
        return np.ones(1)

    def next(self, s2: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return np.ones((len(s2), 1)), np.ones((len(s2), 1))


@dataclass(frozen=True)
class LognormalAR1:
    """``log s2' = rho log s2 + sigma eps``, ``eps ~ N(0, 1)``; expectations by Gauss-Hermite."""

    rho: float = 0.9
    sigma: float = 0.01
    n_nodes: int = 5
    width: float = 3.0  # the policy's box spans +-width unconditional standard deviations
    continuous = True
    n_chain = 1

    def __post_init__(self):
        check_real("rho", self.rho, -1.0, 1.0, low_open=True, high_open=True)
        check_real("sigma", self.sigma, 0.0, low_open=True)
        check_int("n_nodes", self.n_nodes, 1)

    def next(self, s2):
        x, w = np.polynomial.hermite.hermgauss(self.n_nodes)  # weight exp(-x^2)
        log_next = self.rho * np.log(s2)[:, None] + self.sigma * np.sqrt(2.0) * x[None, :]
        return np.exp(log_next), np.broadcast_to(w / np.sqrt(np.pi), log_next.shape)

    @property
    def bounds(self) -> tuple[float, float]:
        sd = self.sigma / np.sqrt(1 - self.rho**2)
        return float(np.exp(-self.width * sd)), float(np.exp(self.width * sd))


@dataclass(frozen=True)
class FiniteChain:
    """``s2`` takes the index ``i`` of ``values[i]``; ``P[i, j] = p_z(j | i)``, the chain's kernel."""

    values: tuple
    P: tuple
    continuous = False

    def __post_init__(self):
        P = np.asarray(self.P, dtype=float)
        n = len(self.values)
        if P.shape != (n, n) or (P < 0).any() or not np.allclose(P.sum(1), 1):
            raise ValueError(f"P must be a {n}x{n} stochastic matrix (rows >= 0 summing to 1)")

    @property
    def n_chain(self) -> int:
        return len(self.values)

    @property
    def states(self) -> np.ndarray:
        return np.arange(len(self.values), dtype=float)

    def next(self, s2):
        idx = np.asarray(s2, dtype=int)
        n = len(self.values)
        return np.broadcast_to(np.arange(n), (len(idx), n)).astype(float), np.asarray(self.P)[idx]


# --- how a polynomial g(s) becomes an action ----------------------------------------------------
# ``action(g, s1, s2)`` maps the polynomial's value to the action; ``index(a, s1, s2)`` inverts it
# (used to fit an initial policy).
@dataclass(frozen=True)
class ShareOfUpper:
    """``a = upper(s1, s2) * logistic(g)``: a feasible fraction of the largest feasible action."""

    upper: Callable  # upper(s1, s2)

    def action(self, g, s1, s2):
        return self.upper(s1, s2) / (1.0 + np.exp(-g))

    def index(self, a, s1, s2):
        share = np.asarray(a) / self.upper(s1, s2)
        return np.log(share / (1 - share))


@dataclass(frozen=True)
class LogAction:
    """``a = exp(g)``: a positive action."""

    def action(self, g, s1, s2):
        return np.exp(g)

    def index(self, a, s1, s2):
        return np.log(a)


@dataclass(frozen=True)
class LevelAction:
    """``a = g``: an unconstrained action."""

    def action(self, g, s1, s2):
        return g

    def index(self, a, s1, s2):
        return a


# --- problems -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class EulerProblem:
    """An Euler-class problem: primitives and their derivatives, in the module's argument order.

    ``inv_r_a`` gives Judd's action-equivalent error; ``a_from_next`` inverts a deterministic
    transition (for value iteration on a grid of next states); ``action`` is a
    :class:`ShareOfUpper`, :class:`LogAction` or :class:`LevelAction`.
    """

    name: str
    beta: float  # the discount factor (gamma in the text)
    s1_bounds: tuple[float, float]
    process: object
    r: Callable
    r_s1: Callable
    r_a: Callable
    f: Callable
    f_a: Callable
    h: Callable
    initial_policy: Callable
    feasible: Callable
    action: object
    inv_r_a: Callable | None = None
    a_from_next: Callable | None = None
    closed_form: Callable | None = None
    log_s1: bool = True
    info: dict = field(default_factory=dict)

    def __post_init__(self):
        check_real("beta", self.beta, 0.0, 1.0, low_open=True, high_open=True)
        lo, hi = self.s1_bounds
        if not (np.isfinite(lo) and np.isfinite(hi) and lo < hi):
            raise ValueError(f"s1_bounds must be finite with low < high; got {self.s1_bounds}")
        if self.log_s1 and lo <= 0:
            raise ValueError(f"s1_bounds must be positive when log_s1=True; got {self.s1_bounds}")
        if not all(callable(getattr(self.action, m, None)) for m in ("action", "index")):
            raise ValueError(
                "action must be ShareOfUpper(upper), LogAction() or LevelAction() (an object with "
                f"methods action(g, s1, s2) and index(a, s1, s2)); got {self.action!r}"
            )

    @property
    def s2_bounds(self):
        return getattr(self.process, "bounds", None)


def _crra(sigma):
    if sigma == 1:
        return np.log, lambda c: 1.0 / c, lambda m: 1.0 / m
    return (
        lambda c: c ** (1 - sigma) / (1 - sigma),
        lambda c: c ** (-sigma),
        lambda m: m ** (-1.0 / sigma),
    )


def stochastic_growth(
    alpha=0.36, beta=0.95, delta=0.1, sigma_u=2.0, rho=0.9, sigma_z=0.01, n_nodes=5, width=0.5
) -> EulerProblem:
    """Growth model: ``k' = z k^alpha + (1 - delta) k - c``, reward ``u(c)`` with CRRA ``sigma_u``.

    Euler class with ``h = df/dk / df/dc = -(alpha z k^(alpha-1) + 1 - delta)``. The capital box
    is ``k_ss * [1 - width, 1 + width]`` around the deterministic steady state; ``sigma_z = 0``
    makes it deterministic (then ``s2 = z = 1``).
    """
    check_real("alpha", alpha, 0.0, 1.0, low_open=True, high_open=True)
    check_real("delta", delta, 0.0, 1.0)
    check_real("sigma_u", sigma_u, 0.0, low_open=True)
    check_real("width", width, 0.0, 1.0, low_open=True, high_open=True)
    u, du, du_inv = _crra(sigma_u)
    k_ss = (alpha / (1 / beta - 1 + delta)) ** (1 / (1 - alpha))
    process = Deterministic() if sigma_z == 0 else LognormalAR1(rho, sigma_z, n_nodes)

    def resources(k, z):
        return z * k**alpha + (1 - delta) * k

    def initial(k, z):
        c_ss = k_ss**alpha - delta * k_ss
        return c_ss * (resources(k, z) / resources(k_ss, 1.0)) ** 0.7

    return EulerProblem(
        name=f"growth (alpha={alpha}, beta={beta}, delta={delta}, CRRA {sigma_u}, "
        f"sigma_z={sigma_z})",
        beta=beta,
        s1_bounds=(k_ss * (1 - width), k_ss * (1 + width)),
        process=process,
        r=lambda k, z, c: u(c),
        r_s1=lambda k, z, c: np.zeros_like(np.asarray(k * c, dtype=float)),
        r_a=lambda k, z, c: du(c),
        f=lambda k, z, c, zn: resources(k, z) - c,
        f_a=lambda k, z, c, zn: -np.ones_like(np.asarray(k * c * zn, dtype=float)),
        h=lambda k, z, c: -(alpha * z * k ** (alpha - 1) + 1 - delta),
        initial_policy=initial,
        feasible=lambda k, z, c: (c > 0) & (c < resources(k, z)),
        action=ShareOfUpper(resources),
        inv_r_a=lambda k, z, m: du_inv(m),
        a_from_next=lambda k, z, kn: resources(k, z) - kn,
        info=dict(alpha=alpha, delta=delta, sigma_u=sigma_u, k_ss=k_ss),
    )


def brock_mirman(alpha=0.36, beta=0.95, rho=0.9, sigma_z=0.02, n_nodes=5) -> EulerProblem:
    """Log utility, full depreciation, lognormal productivity: ``c* = (1 - alpha beta) z k^alpha``."""
    p = stochastic_growth(
        alpha, beta, delta=1.0, sigma_u=1.0, rho=rho, sigma_z=sigma_z, n_nodes=n_nodes, width=0.5
    )
    return EulerProblem(
        **{
            **p.__dict__,
            "name": "Brock-Mirman",
            "initial_policy": lambda k, z: 0.5 * z * k**alpha,
            "closed_form": lambda k, z: (1 - alpha * beta) * z * k**alpha,
        }
    )


def cake_eating(beta=0.95, R=1.02, sigma_u=2.0, bounds=(0.1, 10.0)) -> EulerProblem:
    """``W' = R (W - c)``, CRRA utility: ``c* = (1 - (beta R^(1-sigma))^(1/sigma)) W``.

    ``h = df/dW / df/dc = R / (-R) = -1``, so the envelope formula reads ``v'(W) = u'(c)``.
    """
    check_real("R", R, 0.0, low_open=True)
    u, du, du_inv = _crra(sigma_u)
    kappa = 1 - (beta * R ** (1 - sigma_u)) ** (1 / sigma_u)
    if not 0 < kappa < 1:
        raise ValueError(f"cake eating needs 0 < 1 - (beta R^(1-sigma))^(1/sigma) < 1; got {kappa}")
    return EulerProblem(
        name=f"cake eating (beta={beta}, R={R}, CRRA {sigma_u})",
        beta=beta,
        s1_bounds=tuple(bounds),
        process=Deterministic(),
        r=lambda w, s2, c: u(c),
        r_s1=lambda w, s2, c: np.zeros_like(w * c),
        r_a=lambda w, s2, c: du(c),
        f=lambda w, s2, c, s2n: R * (w - c),
        f_a=lambda w, s2, c, s2n: -R * np.ones_like(w * c * s2n),
        h=lambda w, s2, c: -np.ones_like(w * c),
        initial_policy=lambda w, s2: 0.3 * w,
        feasible=lambda w, s2, c: (c > 0) & (c < w),
        action=ShareOfUpper(lambda w, s2: w + 0 * s2),
        inv_r_a=lambda w, s2, m: du_inv(m),
        a_from_next=lambda w, s2, wn: w - wn / R,
        closed_form=lambda w, s2: kappa * w,
        info=dict(kappa=kappa, R=R),
    )


def energy_storage(
    beta=0.95,
    eta=0.98,
    prices=(30.0, 50.0, 70.0),
    P=None,
    cost=5.0,
    wear=2.0,
    target=10.0,
    bounds=(0.0, 20.0),
) -> EulerProblem:
    """A battery: charge ``b' = eta b + a`` (affine, ``h = eta``), price ``p`` a finite chain.

    Reward ``-p a - cost/2 a^2 - wear/2 (b - target)^2``: buying energy costs the price, fast
    charging costs ``cost``, and staying far from the target charge wears the battery. The policy
    ``a(b, p)`` is solved in levels (``a`` may be negative: selling).
    """
    if P is None:
        P = ((0.7, 0.25, 0.05), (0.2, 0.6, 0.2), (0.1, 0.3, 0.6))
    chain = FiniteChain(tuple(prices), tuple(map(tuple, P)))
    price = np.asarray(prices, dtype=float)

    def p(s2):
        return price[np.asarray(s2, dtype=int)]

    return EulerProblem(
        name="energy storage",
        beta=beta,
        s1_bounds=tuple(bounds),
        process=chain,
        r=lambda b, s2, a: -p(s2) * a - cost / 2 * a**2 - wear / 2 * (b - target) ** 2,
        r_s1=lambda b, s2, a: -wear * (b - target),
        r_a=lambda b, s2, a: -p(s2) - cost * a,
        f=lambda b, s2, a, s2n: eta * b + a,
        f_a=lambda b, s2, a, s2n: np.ones_like(b * a * s2n),
        h=lambda b, s2, a: eta * np.ones_like(b * a),
        initial_policy=lambda b, s2: 0 * b,
        feasible=lambda b, s2, a: np.isfinite(a),
        action=LevelAction(),
        log_s1=False,
        a_from_next=lambda b, s2, bn: bn - eta * b,
        info=dict(prices=prices, eta=eta, cost=cost, wear=wear, target=target),
    )
