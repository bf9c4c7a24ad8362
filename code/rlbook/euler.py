"""Euler-equation methods: solve the first-order condition for the policy directly.

An **Euler-class** problem {cite}`Rust1996` has a controlled state ``s1``, an exogenous state
``s2`` with kernel ``q(s2'|s2)``, transitions ``s1' = f(s1, a, s2, s2')`` and a function ``h`` with
``df/ds1 = df/da * h``. Then the envelope formula (with the sign the book corrects)

    dv*/ds1 (s1, s2) = dr/ds1 (s1, s2, a) - dr/da (s1, s2, a) * h(s1, a, s2),   a = pi*(s1, s2),

turns the first-order condition into an equation in the policy alone, the **Euler residual**

    E(pi)(s) = dr/da(s, a) + beta * E_{s2'}[ (dr/ds1 - dr/da * h)(s1', s2', a') * df/da(s1, a, s2, s2') ],

with ``a = pi(s)``, ``s1' = f(s1, a, s2, s2')``, ``a' = pi(s1', s2')``. This module provides

- :class:`EulerProblem` and three exogenous processes (:class:`Deterministic`,
  :class:`LognormalAR1` with Gauss-Hermite quadrature, :class:`FiniteChain`);
- :class:`ChebyshevPolicy`, tensor Chebyshev polynomials on a box, in levels or logs, with separate
  coefficients per state of a finite chain;
- :func:`solve_collocation` and :func:`solve_galerkin`: the weighted-residual discretisations of
  the chapter, solved with scipy's Newton-type root finder (``scipy.optimize.root``, Powell's hybrid
  method); :func:`euler_errors`: Judd's unit-free accuracy measure {cite}`Judd1992`;
- the problems of the chapter: :func:`brock_mirman`, :func:`cake_eating`, :func:`stochastic_growth`,
  :func:`energy_storage`; and :func:`value_iteration_1d`, the check by dynamic programming.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import scipy.optimize
from numpy.polynomial import chebyshev as C

from .validation import check_int, check_real

__all__ = [
    "ACCURACY_FLOOR",
    "ROUNDING_FLOOR",
    "ChebyshevPolicy",
    "Deterministic",
    "EulerProblem",
    "EulerSolution",
    "FiniteChain",
    "LognormalAR1",
    "brock_mirman",
    "check_grid",
    "cake_eating",
    "energy_storage",
    "euler_errors",
    "euler_residual",
    "solve_by_continuation",
    "solve_collocation",
    "solve_galerkin",
    "stochastic_growth",
    "value_iteration_1d",
]


# --- exogenous processes -----------------------------------------------------------------------
class Deterministic:
    """No exogenous randomness: ``s2`` is the constant 1."""

    kind = "none"

    def next(self, s2: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return np.ones((len(s2), 1)), np.ones((len(s2), 1))


@dataclass(frozen=True)
class LognormalAR1:
    """``log s2' = rho log s2 + sigma eps``, ``eps ~ N(0, 1)``; expectations by Gauss-Hermite."""

    rho: float = 0.9
    sigma: float = 0.01
    n_nodes: int = 5
    width: float = 3.0  # the policy's box spans +-width unconditional standard deviations
    kind = "continuous"

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
    """``s2`` takes the index ``i`` of ``values[i]``; ``P[i, j] = q(j | i)``."""

    values: tuple
    P: tuple
    kind = "chain"

    def __post_init__(self):
        P = np.asarray(self.P, dtype=float)
        n = len(self.values)
        if P.shape != (n, n) or (P < 0).any() or not np.allclose(P.sum(1), 1):
            raise ValueError(f"P must be a {n}x{n} stochastic matrix (rows >= 0 summing to 1)")

    def next(self, s2):
        idx = np.asarray(s2, dtype=int)
        n = len(self.values)
        return np.broadcast_to(np.arange(n), (len(idx), n)).astype(float), np.asarray(self.P)[idx]


# --- problems -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class EulerProblem:
    """An Euler-class problem: primitives and their derivatives, all vectorised over numpy arrays.

    ``inv_r_a(s1, s2, m)`` returns the action ``a`` with ``dr/da(s1, s2, a) = m``; it gives Judd's
    action-equivalent error. ``a_from_next(s1, s2, s1n)`` inverts a deterministic transition (for
    value iteration on a grid of next states).
    """

    name: str
    beta: float
    s1_bounds: tuple[float, float]
    process: object
    r: Callable
    r_s1: Callable
    r_a: Callable
    f: Callable
    f_a: Callable
    h: Callable
    initial_policy: Callable
    feasible: Callable  # feasible(s1, s2, a) -> bool array
    inv_r_a: Callable | None = None
    a_from_next: Callable | None = None
    closed_form: Callable | None = None
    log_s1: bool = True
    action_transform: str = "share"  # "share": a = upper(s) * logistic(g); "log"; "level"
    action_upper: Callable | None = None  # upper(s1, s2), the largest feasible action ("share")
    info: dict = field(default_factory=dict)

    def __post_init__(self):
        check_real("beta", self.beta, 0.0, 1.0, low_open=True, high_open=True)
        lo, hi = self.s1_bounds
        if not (np.isfinite(lo) and np.isfinite(hi) and lo < hi):
            raise ValueError(f"s1_bounds must be finite with low < high; got {self.s1_bounds}")
        if self.log_s1 and lo <= 0:
            raise ValueError(f"s1_bounds must be positive when log_s1=True; got {self.s1_bounds}")
        if self.action_transform not in ("share", "log", "level"):
            raise ValueError(
                f"action_transform must be 'share', 'log' or 'level'; got {self.action_transform!r}"
            )
        if self.action_transform == "share" and self.action_upper is None:
            raise ValueError("action_transform='share' needs action_upper(s1, s2)")

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
        f=lambda k, c, z, zn: resources(k, z) - c,
        f_a=lambda k, c, z, zn: -np.ones_like(np.asarray(k * c * zn, dtype=float)),
        h=lambda k, c, z: -(alpha * z * k ** (alpha - 1) + 1 - delta),
        initial_policy=initial,
        feasible=lambda k, z, c: (c > 0) & (c < resources(k, z)),
        action_upper=resources,
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
        f=lambda w, c, s2, s2n: R * (w - c),
        f_a=lambda w, c, s2, s2n: -R * np.ones_like(w * c * s2n),
        h=lambda w, c, s2: -np.ones_like(w * c),
        initial_policy=lambda w, s2: 0.3 * w,
        feasible=lambda w, s2, c: (c > 0) & (c < w),
        inv_r_a=lambda w, s2, m: du_inv(m),
        action_upper=lambda w, s2: w + 0 * s2,
        a_from_next=lambda w, s2, wn: w - wn / R,
        closed_form=lambda w, s2: kappa * w,
        info=dict(kappa=kappa),
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
        f=lambda b, a, s2, s2n: eta * b + a,
        f_a=lambda b, a, s2, s2n: np.ones_like(b * a * s2n),
        h=lambda b, a, s2: eta * np.ones_like(b * a),
        initial_policy=lambda b, s2: 0 * b,
        feasible=lambda b, s2, a: np.isfinite(a),
        log_s1=False,
        action_transform="level",
        a_from_next=lambda b, s2, bn: bn - eta * b,
        info=dict(prices=prices, eta=eta),
    )


# --- policies -----------------------------------------------------------------------------------
class ChebyshevPolicy:
    """``a = g^{-1}( sum_ij theta_ij T_i(x(s1)) T_j(y(s2)) )`` on a box, ``g`` = log or identity.

    ``x`` maps ``s1`` (or ``log s1``) affinely onto [-1, 1]; likewise ``y`` for a continuous
    ``s2``. For a finite chain, each state ``i`` has its own polynomial in ``s1``.
    """

    def __init__(self, problem: EulerProblem, degree: int, degree_s2: int | None = None):
        self.problem = problem
        self.degree = check_int("degree", degree, 0)
        kind = problem.process.kind
        self.degree_s2 = (
            0
            if kind != "continuous"
            else check_int("degree_s2", degree if degree_s2 is None else degree_s2, 0)
        )
        self.n_chain = len(problem.process.values) if kind == "chain" else 1
        self.n_coef = (self.degree + 1) * (self.degree_s2 + 1) * self.n_chain

    def _unit(self, v, bounds, log):
        lo, hi = (np.log(bounds[0]), np.log(bounds[1])) if log else bounds
        v = np.log(v) if log else v
        return 2 * (v - lo) / (hi - lo) - 1

    def basis(self, s1, s2) -> np.ndarray:
        """Basis matrix ``(len(s1), n_coef)``."""
        s1 = np.asarray(s1, dtype=float)
        x = self._unit(s1, self.problem.s1_bounds, self.problem.log_s1)
        B = C.chebvander(x, self.degree)
        if self.degree_s2:
            y = self._unit(np.asarray(s2, dtype=float), self.problem.s2_bounds, True)
            B = (B[:, :, None] * C.chebvander(y, self.degree_s2)[:, None, :]).reshape(len(x), -1)
        if self.n_chain > 1:
            onehot = np.eye(self.n_chain)[np.asarray(s2, dtype=int)]
            B = (onehot[:, :, None] * B[:, None, :]).reshape(len(x), -1)
        return B

    def __call__(self, theta, s1, s2) -> np.ndarray:
        g = self.basis(s1, s2) @ theta
        kind = self.problem.action_transform
        if kind == "share":  # a feasible fraction of the largest feasible action
            return self.problem.action_upper(s1, s2) / (1.0 + np.exp(-g))
        return np.exp(g) if kind == "log" else g

    def embed(self, solution: EulerSolution) -> np.ndarray:
        """Coefficients of a lower-degree solution in this (larger) basis: a warm start."""
        small = solution.policy
        if small.degree > self.degree or small.degree_s2 > self.degree_s2:
            raise ValueError("embed needs a solution of lower or equal degree")
        shape = (self.n_chain, self.degree + 1, self.degree_s2 + 1)
        theta = np.zeros(shape)
        theta[:, : small.degree + 1, : small.degree_s2 + 1] = solution.theta.reshape(
            small.n_chain, small.degree + 1, small.degree_s2 + 1
        )
        return theta.ravel()

    def fit(self, s1, s2, a) -> np.ndarray:
        """Least-squares coefficients of a given policy at given states."""
        kind = self.problem.action_transform
        with np.errstate(all="ignore"):  # infeasible actions give NaN, reported by the solvers
            if kind == "share":
                share = np.asarray(a) / self.problem.action_upper(s1, s2)
                target = np.log(share / (1 - share))
            else:
                target = np.log(a) if kind == "log" else a
        if not np.all(np.isfinite(target)):
            return np.full(self.n_coef, np.nan)
        return np.linalg.lstsq(self.basis(s1, s2), target, rcond=None)[0]


def chebyshev_nodes(n: int) -> np.ndarray:
    """The ``n`` zeros of ``T_n`` in [-1, 1] (Gauss-Chebyshev points), increasing."""
    return np.cos(np.pi * (2 * np.arange(n, 0, -1) - 1) / (2 * n))


def _states_from_unit(policy: ChebyshevPolicy, x, y=None):
    p = policy.problem
    lo, hi = p.s1_bounds
    if p.log_s1:
        s1 = np.exp(np.log(lo) + (x + 1) / 2 * (np.log(hi) - np.log(lo)))
    else:
        s1 = lo + (x + 1) / 2 * (hi - lo)
    if y is None:
        return s1
    zlo, zhi = np.log(p.s2_bounds[0]), np.log(p.s2_bounds[1])
    return s1, np.exp(zlo + (y + 1) / 2 * (zhi - zlo))


def tensor_nodes(policy: ChebyshevPolicy, n1: int, n2: int | None = None):
    """States at tensor Chebyshev nodes: ``n1`` in ``s1`` (times ``n2`` in ``s2`` or the chain)."""
    x = chebyshev_nodes(n1)
    kind = policy.problem.process.kind
    if kind == "continuous":
        y = chebyshev_nodes(n2 if n2 is not None else n1)
        X, Y = np.meshgrid(x, y, indexing="ij")
        return _states_from_unit(policy, X.ravel(), Y.ravel())
    s1 = _states_from_unit(policy, x)
    if kind == "chain":
        n = policy.n_chain
        return np.tile(s1, n), np.repeat(np.arange(n), len(s1)).astype(float)
    return s1, np.ones_like(s1)


# --- residuals ----------------------------------------------------------------------------------
def _expectation(problem, policy, theta, s1, s2, a):
    s2n, w = problem.process.next(s2)
    s1n = np.broadcast_to(problem.f(s1[:, None], a[:, None], s2[:, None], s2n), s2n.shape)
    an = policy(theta, s1n.ravel(), s2n.ravel()).reshape(s1n.shape)
    marginal_value = problem.r_s1(s1n, s2n, an) - problem.r_a(s1n, s2n, an) * problem.h(
        s1n, an, s2n
    )
    return (w * marginal_value * problem.f_a(s1[:, None], a[:, None], s2[:, None], s2n)).sum(1)


def euler_residual(
    problem: EulerProblem, policy: ChebyshevPolicy, theta, s1, s2, relative: bool = True
) -> np.ndarray:
    """``E(pi)(s)``; with ``relative=True`` divided by ``|dr/da(s, pi(s))|`` (unit-free)."""
    s1, s2 = np.asarray(s1, dtype=float), np.asarray(s2, dtype=float)
    a = policy(theta, s1, s2)
    ra = problem.r_a(s1, s2, a)
    res = ra + problem.beta * _expectation(problem, policy, theta, s1, s2, a)
    return res / np.abs(ra) if relative else res


def euler_errors(problem: EulerProblem, policy: ChebyshevPolicy, theta, s1, s2) -> np.ndarray:
    """Judd's unit-free Euler errors ``|1 - a~/a|``, ``a~`` the action the Euler equation implies.

    ``a~ = (dr/da)^{-1}(-beta E[...])``: the consumption (say) that would make the equation hold
    exactly given tomorrow's policy. ``log10`` of the maximum is the usual accuracy measure.
    """
    if problem.inv_r_a is None:
        return np.abs(euler_residual(problem, policy, theta, s1, s2))
    s1, s2 = np.asarray(s1, dtype=float), np.asarray(s2, dtype=float)
    a = policy(theta, s1, s2)
    implied = problem.inv_r_a(
        s1, s2, -problem.beta * _expectation(problem, policy, theta, s1, s2, a)
    )
    return np.abs(1 - implied / a)


@dataclass
class EulerSolution:
    """Coefficients and diagnostics of a solved projection.

    ``residual_norm`` is ``max |G(theta)|`` at the returned coefficients, ``residual_start`` the
    same at the starting point; ``iterations`` counts the Newton steps taken after the root finder
    (see :func:`_solve` for the stopping rule), ``nfev`` every evaluation of ``G``, Jacobians
    included.
    """

    policy: ChebyshevPolicy
    theta: np.ndarray
    method: str
    nfev: int
    residual_norm: float
    seconds: float
    message: str
    iterations: int = 0
    residual_start: float = float("nan")

    def __call__(self, s1, s2=None):
        s1 = np.asarray(s1, dtype=float)
        return self.policy(self.theta, s1, np.ones_like(s1) if s2 is None else s2)


def _check_feasible(problem, s1, s2, a) -> None:
    with np.errstate(all="ignore"):
        ok = np.isfinite(a) & problem.feasible(s1, s2, a)
    if not ok.all():
        bad = np.flatnonzero(~ok)[0]
        raise ValueError(
            f"{problem.name}: the initial policy is infeasible at s1={s1[bad]:.4g}, "
            f"s2={s2[bad]:.4g} (action {a[bad]:.4g}); e.g. consumption must be positive and "
            "below resources. Give a feasible initial_policy or theta0."
        )


# The residual G is a sum of O(1) terms (the relative Euler residual divides by |dr/da|; Galerkin
# averages it against basis functions bounded by 1), each computed with a relative rounding error
# of a few eps. Below ROUNDING_FLOOR no step can be told apart from rounding noise (where
# |dr/da| is small the terms are not O(1): then the halving rule of _newton stops the steps).
ROUNDING_FLOOR = 64 * np.finfo(float).eps  # about 1.4e-14
_STEP = np.finfo(float).eps ** (1 / 3)  # central differences: truncation ~ h^2, rounding ~ eps/h


def _jacobian(G, x, g):
    """Central-difference Jacobian of ``G`` at ``x`` (``g = G(x)`` gives the shape)."""
    J = np.empty((len(g), len(x)))
    for j in range(len(x)):
        h = _STEP * max(1.0, abs(x[j]))
        xp, xm = x.copy(), x.copy()
        xp[j] += h
        xm[j] -= h
        J[:, j] = (G(xp) - G(xm)) / (2 * h)
    return J


def _newton(G, x, g, max_steps=25):
    """Newton steps until ``max|G|`` reaches the rounding floor or a step stops reducing it.

    A step must at least halve ``max|G|`` to count as progress (Newton's local convergence is
    quadratic, so a step that does not is at the floor or outside the basin). Neither criterion
    can be met by the starting point alone: a warm start whose residual is small but above the
    floor still takes steps. Returns ``(x, g, steps, nfev)``.
    """
    norm, steps, nfev = float(np.abs(g).max()), 0, 0
    while steps < max_steps and norm > ROUNDING_FLOOR:
        J = _jacobian(G, x, g)
        nfev += 2 * len(x)
        dx = np.linalg.lstsq(J, -g, rcond=None)[0]
        g_new = G(x + dx)
        nfev += 1
        norm_new = float(np.abs(g_new).max())
        if not np.isfinite(norm_new) or norm_new > 0.5 * norm:
            break
        x, g, norm, steps = x + dx, g_new, norm_new, steps + 1
    return x, g, steps, nfev


def _solve(policy, G, theta0, method, tol, nodes_for_check):
    """Solve ``G(theta) = 0`` from ``theta0``: scipy's root finder, then Newton to the floor.

    Powell's hybrid method (``hybr``) globalises from a poor start; if it leaves the region where
    the primitives are defined (NaN residuals), Levenberg-Marquardt (``lm``) from the same start.
    MINPACK's own tests (``xtol`` on the step, "not making good progress") can end the solve at a
    warm start whose residual is small but far above rounding (seen at degree 10 warm-started
    from degree 9), so Newton steps with a central-difference Jacobian follow until the residual
    reaches ``ROUNDING_FLOOR`` or a step no longer halves it (:func:`_newton`).
    """
    problem = policy.problem
    s1, s2 = nodes_for_check
    _check_feasible(problem, s1, s2, policy(theta0, s1, s2))
    r0 = G(theta0)
    if not np.all(np.isfinite(r0)):
        raise ValueError(
            f"{problem.name}: the Euler residual is not finite at the initial guess "
            "(next states leave the region where the primitives are defined)"
        )
    J = scipy.optimize.approx_fprime(theta0, G, 1e-7)
    rank = np.linalg.matrix_rank(J)
    if rank < len(theta0):
        raise ValueError(
            f"{problem.name}: singular Jacobian at the initial guess (rank {rank} < "
            f"{len(theta0)} coefficients): the nodes or test functions do not determine the "
            "coefficients (duplicate nodes, or fewer nodes than basis functions)"
        )
    start_norm = float(np.abs(r0).max())
    start = time.perf_counter()
    nfev = 1
    with np.errstate(all="ignore"):
        best = None  # (max|G|, solution, G there): hybr's, or lm's if hybr stalled or left
        for solver in ("hybr", "lm"):
            sol = scipy.optimize.root(G, theta0, method=solver, options={"xtol": tol})
            nfev += int(sol.nfev)
            g = G(sol.x)
            norm = float(np.abs(g).max()) if np.all(np.isfinite(g)) else np.inf
            if best is None or norm < best[0]:
                best = (norm, sol, g)
            if norm < 1e-8:  # converged enough for Newton's local convergence to finish it
                break
        norm, sol, g = best
        if not np.isfinite(norm):
            raise RuntimeError(
                f"{problem.name}: the root finder left the feasible region ({sol.message})"
            )
        x, g, steps, n = _newton(G, sol.x, g)
        nfev += n
    norm = float(np.abs(g).max())
    seconds = time.perf_counter() - start
    if norm > 1e-6:
        warnings.warn(
            f"{problem.name}: {method} stopped with residual norm {norm:.2e} ({sol.message}); "
            "try a warm start from a lower degree (solve_by_continuation)",
            RuntimeWarning,
            stacklevel=3,
        )
    message = str(sol.message) + (f" Then {steps} Newton step(s)." if steps else "")
    return EulerSolution(
        policy, x, f"{method} ({solver})", nfev, norm, seconds, message, steps, start_norm
    )


def _initial_theta(policy, theta0, s1, s2):
    if theta0 is None:  # least-squares fit of the problem's initial policy
        a0 = policy.problem.initial_policy(s1, s2)
        _check_feasible(policy.problem, s1, s2, a0)
        return policy.fit(s1, s2, a0)
    if isinstance(theta0, EulerSolution):  # warm start from a lower degree
        return policy.embed(theta0)
    theta0 = np.asarray(theta0, dtype=float)
    if theta0.shape != (policy.n_coef,):
        raise ValueError(f"theta0 must have {policy.n_coef} coefficients; got shape {theta0.shape}")
    return theta0


def solve_collocation(
    problem: EulerProblem,
    degree: int,
    degree_s2: int | None = None,
    theta0=None,
    tol: float = 1e-12,
    nodes=None,
) -> EulerSolution:
    """Collocation: ``E(pi_theta)(s_i) = 0`` at the tensor Chebyshev nodes (as many as coefficients).

    ``nodes=(s1, s2)`` overrides the nodes; they must lie inside the policy's box. ``theta0`` is
    a coefficient vector, a lower-degree :class:`EulerSolution` (warm start), or ``None`` (a fit of
    the problem's ``initial_policy``).
    """
    policy = ChebyshevPolicy(problem, degree, degree_s2)
    if nodes is None:
        s1, s2 = tensor_nodes(policy, policy.degree + 1, policy.degree_s2 + 1)
    else:
        s1, s2 = (np.asarray(v, dtype=float) for v in nodes)
        lo, hi = problem.s1_bounds
        if np.any((s1 < lo) | (s1 > hi)):
            raise ValueError(
                f"collocation nodes must lie in s1_bounds [{lo:g}, {hi:g}]; "
                f"got values from {s1.min():g} to {s1.max():g}"
            )
    theta0 = _initial_theta(policy, theta0, s1, s2)
    return _solve(
        policy,
        lambda th: euler_residual(problem, policy, th, s1, s2),
        theta0,
        "collocation",
        tol,
        (s1, s2),
    )


def solve_galerkin(
    problem: EulerProblem,
    degree: int,
    degree_s2: int | None = None,
    n_quad: int | None = None,
    theta0=None,
    tol: float = 1e-12,
) -> EulerSolution:
    """Galerkin: ``sum_q w_q phi_i(s_q) E(pi_theta)(s_q) = 0`` for every basis function ``phi_i``.

    The weighting measure is the Chebyshev measure on the box, integrated with ``n_quad``
    Gauss-Chebyshev points per dimension (default ``2 (degree + 1)``), whose weights are equal.
    """
    policy = ChebyshevPolicy(problem, degree, degree_s2)
    n_quad = 2 * (policy.degree + 1) if n_quad is None else check_int("n_quad", n_quad, 1)
    n_quad2 = 2 * (policy.degree_s2 + 1)
    s1, s2 = tensor_nodes(policy, n_quad, n_quad2)
    Phi = policy.basis(s1, s2)
    theta0 = _initial_theta(policy, theta0, s1, s2)
    return _solve(
        policy,
        lambda th: Phi.T @ euler_residual(problem, policy, th, s1, s2) / len(s1),
        theta0,
        "galerkin",
        tol,
        (s1, s2),
    )


def check_grid(problem: EulerProblem, n1: int = 201, n2: int = 11):
    """Off-node states for accuracy checks: ``n1`` equally spaced ``s1`` in the box, times ``n2``
    equally spaced ``s2`` (continuous process) or every state of a finite chain."""
    s1 = np.linspace(*problem.s1_bounds, n1)
    kind = problem.process.kind
    if kind == "continuous":
        S1, S2 = np.meshgrid(s1, np.linspace(*problem.s2_bounds, n2))
        return S1.ravel(), S2.ravel()
    if kind == "chain":
        n = len(problem.process.values)
        return np.tile(s1, n), np.repeat(np.arange(n), n1).astype(float)
    return s1, np.ones_like(s1)


# Judd's Euler error is computed from a dozen float64 operations on O(1) quantities plus a
# Chebyshev sum; below about 1e-13 what a higher degree buys is lost in that rounding.
ACCURACY_FLOOR = 1e-13


def solve_by_continuation(
    problem: EulerProblem, degrees, method: str = "collocation", degree_s2: int | None = None
) -> list[EulerSolution]:
    """Solve for each degree in turn, warm-starting each from the previous solution.

    ``degree_s2`` caps the degree in a continuous ``s2`` (default: the same as in ``s1``). Warns
    when a higher degree did not lower the largest Euler error on :func:`check_grid` (off the
    nodes) while that error is still above ``ACCURACY_FLOOR`` (not where ``degree_s2`` caps the
    degree: the error may then be the s2 approximation's).
    """
    solve = {"collocation": solve_collocation, "galerkin": solve_galerkin}.get(method)
    if solve is None:
        raise ValueError(f"method must be 'collocation' or 'galerkin'; got {method!r}")
    s1, s2 = check_grid(problem)
    solutions, prev, prev_error = [], None, np.inf
    for degree in degrees:
        d2 = None if degree_s2 is None else min(degree, degree_s2)
        prev = solve(problem, degree, d2, theta0=prev)
        error = float(euler_errors(problem, prev.policy, prev.theta, s1, s2).max())
        capped = d2 is not None and degree > degree_s2  # the s2 degree may set the error then
        if error >= prev_error and prev_error > ACCURACY_FLOOR and not capped:
            warnings.warn(
                f"{problem.name}: degree {degree} did not lower the largest off-node Euler error "
                f"({error:.2e}, previous degree {prev_error:.2e}); the solve may have stalled "
                f"({prev.message})",
                RuntimeWarning,
                stacklevel=2,
            )
        prev_error = error
        solutions.append(prev)
    return solutions


# --- dynamic programming check ------------------------------------------------------------------
def value_iteration_1d(
    problem: EulerProblem, n: int = 2000, tol: float = 1e-10, max_iter: int = 5000
):
    """Value iteration for a deterministic problem on a grid of ``n`` states, choosing the next
    state on the same grid (so the action is ``a_from_next(s1, s1')``).

    Returns ``(grid, v, policy_actions, iterations)``. Infeasible choices get value ``-inf``.
    """
    if problem.process.kind != "none" or problem.a_from_next is None:
        raise ValueError("value_iteration_1d needs a deterministic problem with a_from_next")
    check_int("n", n, 3)
    lo, hi = problem.s1_bounds
    grid = np.linspace(lo, hi, n)
    one = np.ones(1)
    a = problem.a_from_next(grid[:, None], one, grid[None, :])
    ok = problem.feasible(grid[:, None], one, a)
    with np.errstate(all="ignore"):
        reward = np.where(ok, problem.r(grid[:, None], one, np.where(ok, a, 1.0)), -np.inf)
    v = np.zeros(n)
    for it in range(1, max_iter + 1):  # noqa: B007 (returned: the iteration count)
        q = reward + problem.beta * v[None, :]
        choice = q.argmax(1)
        v_new = q[np.arange(n), choice]
        # Howard improvement: evaluate the current greedy policy exactly, 50 sweeps at a time
        for _ in range(50):
            v_new = reward[np.arange(n), choice] + problem.beta * v_new[choice]
        if np.max(np.abs(v_new - v)) < tol:
            v = v_new
            break
        v = v_new
    return grid, v, a[np.arange(n), choice], it
